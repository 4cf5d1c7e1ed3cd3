/*
 * sim_ta.c: the TAs of the simulated TEE, one Linux process each, started
 * as the session's instance type (docs/tee-sim.md):
 *
 *   process    fork/exec of the stored executable, with the private
 *              channel as fd 3; nothing else shared but what a Linux
 *              process shares with its parent's user.
 *   container  clone() into new mount, PID, IPC, UTS and network
 *              namespaces; the TA's root is <dir>/root (pivot_root, the
 *              old root detached), holding only the TA binary, so a
 *              static executable is expected (examples/hello).
 *   vm         the container's namespaces plus a new cgroup namespace and
 *              no core dumps; a TA also marks itself non-dumpable.  What
 *              only hardware gives (memory the host cannot read) is not
 *              here: docs/tee-sim.md.
 *
 * The child runs between clone() and execve() in a copy of a process that
 * has other threads (the host's workers), so it calls only system calls.
 *
 * Sessions install and start TAs on several worker threads at once, and a
 * child gets a copy of every descriptor of the process, including one that
 * another thread has open for writing a TA executable.  Until that child
 * execs, the executable has a writer and execve() of it fails with
 * ETXTBSY (on a loaded machine the child can wait long enough for that).
 * So spawn_lock keeps writing an executable and the span from clone() to
 * the child's execve() apart, and the child reports a failed set-up or
 * execve() over a close-on-exec status pipe, so that sim__ta_start says
 * the TA did not start instead of leaving a dead TA to be found later.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim_channel.h"
#include "sim_internal.h"
#include "teep/file_replace.h"

#define CHILD_STACK (256 * 1024)
#define TA_HOSTNAME "teep-ta"
/* How long a child may take from clone() to execve().  That is a few
 * system calls; the bound only keeps a wedged child from holding
 * spawn_lock (and its session) forever, so it is generous. */
#define SPAWN_TIMEOUT_MS 30000

/* Process-wide: all sessions of the plugin share the process. */
static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;

sim_ta_t *sim__ta(teep_tee_session_t *s, teep_slice_t id, bool create)
{
    sim_ta_t *free_slot = NULL;
    for (size_t i = 0; i < TEEP_AGENT_MAX_COMPONENTS; i++) {
        sim_ta_t *ta = &s->tas[i];
        if (ta->in_use && ta->id_len == id.len &&
            memcmp(ta->id, id.ptr, id.len) == 0)
            return ta;
        if (!ta->in_use && free_slot == NULL)
            free_slot = ta;
    }
    if (!create || free_slot == NULL || id.len > SIM_ID_MAX)
        return NULL;
    uint8_t h[32];
    char hex[65];
    if (teep_sha256(id.ptr, id.len, h) != 0)
        return NULL;
    for (size_t i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    sim_ta_t *ta = free_slot;
    memset(ta, 0, sizeof(*ta));
    int n = snprintf(ta->dir, sizeof(ta->dir), "%s/tas", s->state_dir);
    if (n < 0 || (size_t)n >= sizeof(ta->dir) ||
        (mkdir(ta->dir, 0700) != 0 && errno != EEXIST))
        return NULL;
    n = snprintf(ta->dir, sizeof(ta->dir), "%s/tas/%s", s->state_dir, hex);
    if (n < 0 || (size_t)n >= sizeof(ta->dir) ||
        (mkdir(ta->dir, 0700) != 0 && errno != EEXIST))
        return NULL;
    memcpy(ta->id, id.ptr, id.len);
    ta->id_len = id.len;
    ta->fd = -1;
    ta->in_use = true;
    return ta;
}

/* Replaced, not rewritten: a running TA keeps the file it was started
 * from. */
static int write_exe(const char *path, const uint8_t *bytes, size_t len)
{
    pthread_mutex_lock(&spawn_lock);
    int rc = teep_file_replace(path, bytes, len, 0700);
    pthread_mutex_unlock(&spawn_lock);
    return rc;
}

static bool isolated(const teep_tee_session_t *s)
{
    return s->instance == TEEP_TEE_INSTANCE_CONTAINER ||
           s->instance == TEEP_TEE_INSTANCE_VM;
}

int sim__ta_store(teep_tee_session_t *s, sim_ta_t *ta, const uint8_t *bytes,
                  size_t len)
{
    char path[SIM_PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/ta", ta->dir);
    int rc = write_exe(path, bytes, len);
    if (rc != 0 || !isolated(s))
        return rc;
    /* The container's whole file system: a directory with the TA. */
    snprintf(path, sizeof(path), "%s/root", ta->dir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -errno;
    snprintf(path, sizeof(path), "%s/root/ta", ta->dir);
    return write_exe(path, bytes, len);
}

/* Everything the child needs, prepared before clone(). */
typedef struct spawn {
    const char *exe;
    const char *root; /* NULL: no new root */
    char *const *argv;
    char *const *envp;
    int fd;        /* the TA's end of the channel */
    int status_fd; /* write end of the status pipe (close-on-exec) */
    bool vm;
} spawn_t;

/* In the child: tell the parent which step failed and why, and stop. */
static void child_fail(const spawn_t *sp, int err)
{
    ssize_t n = write(sp->status_fd, &err, sizeof(err));
    (void)n; /* the parent takes a short read for -EIO */
    _exit(127);
}

static int child_main(void *arg)
{
    spawn_t *sp = arg; /* the child's own copy */
    /* The channel goes to SIM_CHANNEL_FD: the status pipe moves away. */
    if (sp->status_fd == SIM_CHANNEL_FD) {
        sp->status_fd =
            fcntl(sp->status_fd, F_DUPFD_CLOEXEC, SIM_CHANNEL_FD + 1);
        if (sp->status_fd < 0)
            _exit(127);
    }
    if (sp->fd == SIM_CHANNEL_FD)
        fcntl(sp->fd, F_SETFD, 0);
    else if (dup2(sp->fd, SIM_CHANNEL_FD) < 0)
        child_fail(sp, errno);
    /* Only stdio and the channel go into the TEE: the rest, the status
     * pipe included, is closed by the execve(). */
    if (syscall(SYS_close_range, SIM_CHANNEL_FD + 1, ~0U,
                CLOSE_RANGE_CLOEXEC) != 0)
        child_fail(sp, errno);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (sp->root != NULL) {
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
            mount(sp->root, sp->root, NULL, MS_BIND | MS_REC, NULL) != 0 ||
            chdir(sp->root) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 ||
            umount2(".", MNT_DETACH) != 0 || chdir("/") != 0)
            child_fail(sp, errno);
        if (sethostname(TA_HOSTNAME, sizeof(TA_HOSTNAME) - 1) != 0)
            child_fail(sp, errno);
    }
    if (sp->vm) {
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_CORE, &none);
    }
    execve(sp->exe, sp->argv, sp->envp);
    child_fail(sp, errno);
    return 127;
}

static int clone_flags(teep_tee_instance_t instance)
{
    int ns =
        CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET;
    switch (instance) {
    case TEEP_TEE_INSTANCE_CONTAINER: return ns;
    case TEEP_TEE_INSTANCE_VM: return ns | CLONE_NEWCGROUP;
    default: return 0;
    }
}

/* Wait for the child's word on the status pipe: end of file when its
 * execve() succeeded (the pipe is close-on-exec), an errno when a step
 * failed.  0 or -errno (-ETIMEDOUT: no word within SPAWN_TIMEOUT_MS). */
static int child_status(int status_fd)
{
    struct pollfd p = {.fd = status_fd, .events = POLLIN};
    int n;
    while ((n = poll(&p, 1, SPAWN_TIMEOUT_MS)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return -errno;
    if (n == 0)
        return -ETIMEDOUT;
    int err = 0;
    ssize_t got;
    while ((got = read(status_fd, &err, sizeof(err))) < 0 && errno == EINTR)
        ;
    if (got == 0)
        return 0;
    return got == (ssize_t)sizeof(err) && err > 0 ? -err : -EIO;
}

/* Clone the child sp describes and wait until it runs the TA: status_rd
 * is the read end of the pipe whose write end is sp->status_fd (closed
 * here, so that the child's execve() leaves no writer).  Called with
 * spawn_lock held.  The pid, or -errno (the child is reaped then). */
static pid_t spawn_locked(teep_tee_instance_t instance, const spawn_t *sp,
                          int status_rd)
{
    /* Without CLONE_VM the child gets a copy of this stack: it is ours to
     * free as soon as clone() returned. */
    uint8_t *stack = malloc(CHILD_STACK);
    pid_t pid = -ENOMEM;
    if (stack != NULL) {
        pid = clone(child_main, stack + CHILD_STACK,
                    clone_flags(instance) | SIGCHLD, (void *)sp);
        if (pid < 0)
            pid = -errno;
        free(stack);
    }
    close(sp->status_fd);
    if (pid < 0)
        return pid;
    int rc = child_status(status_rd);
    if (rc == 0)
        return pid;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return rc;
}

int sim__ta_start(teep_tee_session_t *s, sim_ta_t *ta)
{
    if (ta->pid > 0)
        return 0;
    char exe[SIM_PATH_MAX + 16], root[SIM_PATH_MAX + 16], env_type[64];
    snprintf(exe, sizeof(exe), "%s/ta", ta->dir);
    snprintf(root, sizeof(root), "%s/root", ta->dir);
    snprintf(env_type, sizeof(env_type), "TEEP_TA_INSTANCE=%s",
             teep_tee_instance_name(s->instance));
    char *argv[] = {"ta", NULL};
    char *envp[] = {env_type, "TEEP_TA_CHANNEL_FD=3", NULL};
    if (access(exe, X_OK) != 0)
        return -ENOENT;
    int sv[2], st[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return -errno;
    if (pipe2(st, O_CLOEXEC) != 0) {
        int rc = -errno;
        close(sv[0]);
        close(sv[1]);
        return rc;
    }
    /* Our end never blocks: every wait is a poll with a limit. */
    pid_t pid = fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0 ? -errno : 0;
    if (pid == 0) {
        spawn_t sp = {
            .exe = isolated(s) ? "/ta" : exe,
            .root = isolated(s) ? root : NULL,
            .argv = argv,
            .envp = envp,
            .fd = sv[1],
            .status_fd = st[1],
            .vm = s->instance == TEEP_TEE_INSTANCE_VM,
        };
        pthread_mutex_lock(&spawn_lock);
        pid = spawn_locked(s->instance, &sp, st[0]);
        pthread_mutex_unlock(&spawn_lock);
    } else {
        close(st[1]);
    }
    close(st[0]);
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        return (int)pid;
    }
    ta->pid = pid;
    ta->fd = sv[0];
    ta->has_pd = false;
    ta->has_key = false;
    s->host->log(s->host, TEEP_LOG_INFO, "TA started as a %s, pid %d",
                 teep_tee_instance_name(s->instance), (int)pid);
    return 0;
}

void sim__ta_stop(sim_ta_t *ta)
{
    if (ta->pid > 0) {
        kill(ta->pid, SIGKILL);
        while (waitpid(ta->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        ta->pid = 0;
    }
    if (ta->fd >= 0)
        close(ta->fd);
    ta->fd = -1;
    ta->has_pd = false;
    ta->has_key = false;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    return remove(path);
}

void sim__ta_remove(sim_ta_t *ta)
{
    sim__ta_stop(ta);
    nftw(ta->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    memset(ta, 0, sizeof(*ta));
    ta->fd = -1;
}

void sim__ta_reap(teep_tee_session_t *s)
{
    for (size_t i = 0; i < TEEP_AGENT_MAX_COMPONENTS; i++) {
        sim_ta_t *ta = &s->tas[i];
        int status;
        if (!ta->in_use || ta->pid <= 0 ||
            waitpid(ta->pid, &status, WNOHANG) != ta->pid)
            continue;
        s->host->log(s->host, TEEP_LOG_WARN, "TA pid %d exited (status %d)",
                     (int)ta->pid, status);
        ta->pid = 0;
        close(ta->fd);
        ta->fd = -1;
        ta->has_pd = false;
        ta->has_key = false;
    }
}

/* Wait until the channel has room (POLLOUT) or data (POLLIN), up to
 * SIM_INVOKE_TIMEOUT_MS.  0, -ETIMEDOUT, -EIO (the TA closed it). */
static int wait_channel(sim_ta_t *ta, short events)
{
    struct pollfd p = {.fd = ta->fd, .events = events};
    for (;;) {
        int n = poll(&p, 1, SIM_INVOKE_TIMEOUT_MS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -ETIMEDOUT;
        return p.revents & events ? 0 : -EIO;
    }
}

/* One packet, waiting for room when the TA has not read the last ones. */
static int send_packet(sim_ta_t *ta, uint8_t type, const uint8_t *data,
                       size_t len)
{
    for (;;) {
        int rc = sim_channel_send(ta->fd, type, data, len);
        if (rc != -EAGAIN)
            return rc;
        rc = wait_channel(ta, POLLOUT);
        if (rc != 0)
            return rc;
    }
}

/* What a TA sends of its own accord: a key ('K') is kept (its SHA-256);
 * anything else (a late answer to an invocation that timed out) is not
 * for anyone any more. */
static void take_packet(sim_ta_t *ta, uint8_t type, const uint8_t *p, size_t n)
{
    if (type != SIM_MSG_KEY || n == 0 || n > SIM_KEY_MAX)
        return;
    ta->has_key = teep_sha256(p, n, ta->key_sha256) == 0;
}

/* Read everything the TA sent so far without waiting. */
static int drain(sim_ta_t *ta, uint8_t *buf)
{
    for (;;) {
        uint8_t type;
        ssize_t got = sim_channel_recv(ta->fd, &type, buf, SIM_CHANNEL_MAX);
        if (got == -EAGAIN)
            return 0;
        if (got == -EMSGSIZE)
            continue; /* a cut packet is no key and no answer */
        if (got < 0)
            return (int)got;
        take_packet(ta, type, buf, (size_t)got);
    }
}

int sim__ta_deliver(sim_ta_t *ta, const uint8_t *pd, size_t len)
{
    if (ta->pid <= 0 || ta->fd < 0)
        return -ENOENT;
    if (len > SIM_PD_MAX)
        return -EMSGSIZE;
    /* 'p' pieces of SIM_CHANNEL_MAX, then the rest in the final 'P'. */
    size_t off = 0;
    int rc = 0;
    while (rc == 0 && len - off > SIM_CHANNEL_MAX) {
        rc = send_packet(ta, SIM_MSG_PD_MORE, pd + off, SIM_CHANNEL_MAX);
        off += SIM_CHANNEL_MAX;
    }
    if (rc == 0)
        rc = send_packet(ta, SIM_MSG_PD, pd + off, len - off);
    if (rc == 0)
        ta->has_pd = true;
    return rc == 0 || rc == -ETIMEDOUT || rc == -EMSGSIZE ? rc : -EIO;
}

int sim__ta_key(sim_ta_t *ta, uint8_t sha256[32])
{
    if (ta->pid <= 0 || ta->fd < 0)
        return -ENOENT;
    uint8_t *buf = malloc(SIM_CHANNEL_MAX);
    if (buf == NULL)
        return -ENOMEM;
    drain(ta, buf);
    free(buf);
    if (!ta->has_key)
        return -ENOENT;
    memcpy(sha256, ta->key_sha256, 32);
    return 0;
}

int sim__ta_invoke(sim_ta_t *ta, const uint8_t *req, size_t len,
                   uint8_t **reply, size_t *reply_len)
{
    *reply = NULL;
    *reply_len = 0;
    if (ta->pid <= 0 || ta->fd < 0)
        return -ENOENT;
    uint8_t *buf = malloc(SIM_CHANNEL_MAX);
    if (buf == NULL)
        return -ENOMEM;
    /* What came before this invocation is not its answer. */
    int rc = drain(ta, buf);
    if (rc == 0)
        rc = send_packet(ta, SIM_MSG_INVOKE, req, len);
    while (rc == 0) {
        rc = wait_channel(ta, POLLIN);
        if (rc != 0)
            break;
        uint8_t type;
        ssize_t got = sim_channel_recv(ta->fd, &type, buf, SIM_CHANNEL_MAX);
        if (got == -EAGAIN)
            continue;
        if (got < 0) {
            rc = got == -EMSGSIZE ? -EMSGSIZE : -EIO;
        } else if (type == SIM_MSG_REPLY) {
            *reply_len = (size_t)got;
            break;
        } else {
            take_packet(ta, type, buf, (size_t)got);
        }
    }
    if (rc != 0) {
        free(buf);
        return rc == -EMSGSIZE || rc == -ETIMEDOUT ? rc : -EIO;
    }
    *reply = buf;
    return 0;
}
