/*
 * ot.h: what the oblivious-transfer example shares (docs: README.md here).
 *
 * Two ways for a Collector to fetch record i of a Data Center's table of N
 * records of S bytes without the Data Center learning i:
 *
 *   CC-OT    the lookup runs as a TA (ot-lookup) in the Data Center's TEE;
 *            the Collector attests it, agrees a key with the TA's channel key
 *            (ECDH P-256 + HKDF-SHA256 -> AES-128-GCM, ot_channel.c), sends
 *            its encrypted index and gets back the encrypted record.
 *   classic  1-out-of-N oblivious transfer without a TEE (Chou-Orlandi
 *            "simplest OT", ot_classic.c): the server sends all N records,
 *            each encrypted under its own key, the Collector can open one.
 *
 * The table (the TA's personalization data) is
 *   "OTT1" | u32 N | u32 S | N * S bytes          (big-endian).
 */
#ifndef OT_H
#define OT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* ------------------------------------------------------------- the table */
#define OT_TABLE_HEAD  12
#define OT_RECORD_MAX  16384
#define OT_RECORDS_MAX 1000000u

typedef struct ot_table {
    uint32_t n, size;    /* records, bytes per record */
    const uint8_t *rows; /* n * size bytes; borrowed */
} ot_table_t;

/* Parse a table blob (borrowed: rows point into it).  0 or -EINVAL. */
int ot_table_parse(const uint8_t *blob, size_t len, ot_table_t *t);

/* Fill a new table blob of n records of size bytes: record j starts with
 * "record j" and continues with bytes derived from j, so any record can be
 * checked with ot_record_expected.  Returns malloc'ed memory (caller frees)
 * of OT_TABLE_HEAD + n * size bytes, or NULL. */
uint8_t *ot_table_make(uint32_t n, uint32_t size, size_t *len);

/* The content of record j in ot_table_make's tables, into out[size]. */
void ot_record_expected(uint32_t j, uint32_t size, uint8_t *out);

/* Copy record idx into out[size] touching every record with the same
 * instructions whatever idx is (a constant-time select over the table),
 * so that the memory access pattern does not tell idx. */
void ot_table_select(const ot_table_t *t, uint32_t idx, uint8_t *out);

void ot_put_be32(uint8_t *p, uint32_t v);
uint32_t ot_get_be32(const uint8_t *p);
void ot_put_be64(uint8_t *p, uint64_t v);
uint64_t ot_get_be64(const uint8_t *p);

/* ----------------------------------------------------- the CC-OT channel */
#define OT_PUB_LEN 65 /* uncompressed P-256 point */
#define OT_KEY_LEN 16 /* AES-128 */
#define OT_TAG_LEN 16
#define OT_SEQ_LEN 8

/* Invocation payloads, Collector -> TA, and the TA's answers:
 *   'H'                          -> 'h' | TA channel public key | u32 N | u32 S
 *   'K' | Collector public key   -> 'k' | seal_s2c(seq 0, "ready")
 *   'Q' | u64 seq | seal_c2s(u32 index)  -> 'A' | u64 seq | seal_s2c(record)
 *   'S'                          -> 's' | u64 CPU microseconds of the TA
 * and 'E' | text for any refusal.  seal = AES-128-GCM, nonce 0^4 | seq,
 * additional data = the type byte | seq; sequence numbers only go up. */
#define OT_MSG_HELLO 'H'
#define OT_MSG_KEY   'K'
#define OT_MSG_QUERY 'Q'
#define OT_MSG_STATS 'S'
#define OT_MSG_ERROR 'E'
#define OT_READY     "ready"

typedef struct ot_channel {
    uint8_t c2s[OT_KEY_LEN]; /* Collector -> TA */
    uint8_t s2c[OT_KEY_LEN]; /* TA -> Collector */
    int ready;
} ot_channel_t;

/* A new P-256 key pair (caller frees with EVP_PKEY_free), or NULL. */
EVP_PKEY *ot_key_new(void);

/* The uncompressed public point of key into out.  0 or -EIO. */
int ot_key_public(EVP_PKEY *key, uint8_t out[OT_PUB_LEN]);

/* Agree the channel keys: ECDH of mine with peer, then HKDF-SHA256 with
 * salt = ta_pub | collector_pub (both ends put them in this order), one
 * key per direction.  0, -EINVAL (peer not a P-256 point), -EIO. */
int ot_channel_derive(ot_channel_t *ch, EVP_PKEY *mine,
                      const uint8_t peer[OT_PUB_LEN],
                      const uint8_t ta_pub[OT_PUB_LEN],
                      const uint8_t collector_pub[OT_PUB_LEN]);

/* AES-128-GCM of in[0..n) into out[0..n + OT_TAG_LEN).  0 or -EIO. */
int ot_seal(const uint8_t key[OT_KEY_LEN], uint8_t type, uint64_t seq,
            const uint8_t *in, size_t n, uint8_t *out);

/* Check and decrypt in[0..n) (n >= OT_TAG_LEN) into out[0..n - OT_TAG_LEN).
 * 0, or -EBADMSG when anything was changed. */
int ot_open(const uint8_t key[OT_KEY_LEN], uint8_t type, uint64_t seq,
            const uint8_t *in, size_t n, uint8_t *out);

/* ------------------------------------------------------------ the wire */
/* Bytes counted at a socket, both directions. */
typedef struct ot_count {
    uint64_t sent, received;
} ot_count_t;

/* write/read exactly n bytes, adding them to count (may be NULL).
 * 0 or -errno (-EPIPE when the peer closed). */
int ot_send_all(int fd, const void *p, size_t n, ot_count_t *count);
int ot_recv_all(int fd, void *p, size_t n, ot_count_t *count);

/* One message: u32 length | bytes.  ot_recv_msg mallocs *out (caller
 * frees); a message longer than max is -EMSGSIZE. */
int ot_send_msg(int fd, const void *p, size_t n, ot_count_t *count);
int ot_recv_msg(int fd, uint8_t **out, size_t *n, size_t max,
                ot_count_t *count);

/* A TCP listener on 127.0.0.1 (port 0: any); *port gets the port.
 * The socket or -errno. */
int ot_tcp_listen(uint16_t *port);
/* A connection to 127.0.0.1:port, or -errno. */
int ot_tcp_connect(uint16_t port);
/* The next connection on a listener, or -errno. */
int ot_tcp_accept(int listener);

/* ------------------------------------------------------ the classic OT */
#define OT_POINT_LEN 33 /* compressed P-256 point */

typedef struct ot_classic_server ot_classic_server_t;
typedef struct ot_classic_receiver ot_classic_receiver_t;

/* Server, one transfer: a fresh secret a; A = aG into a_msg.
 * Returns the state (ot_classic_server_free) or NULL. */
ot_classic_server_t *ot_classic_server_new(uint8_t a_msg[OT_POINT_LEN]);
/* Given the receiver's B, encrypt every record j under
 * k_j = H(A | B | a(B - jA)) into out (ot_classic_answer_len bytes: per
 * record S + OT_TAG_LEN).  Its size and content do not depend on the
 * receiver's choice.  0, -EINVAL (B not a point), -EIO. */
int ot_classic_server_answer(ot_classic_server_t *s,
                             const uint8_t b_msg[OT_POINT_LEN],
                             const ot_table_t *t, uint8_t *out);
void ot_classic_server_free(ot_classic_server_t *s);
size_t ot_classic_answer_len(uint32_t n, uint32_t size);

/* Receiver: choose idx < n given A: B = bG + idx A into b_msg.  The state
 * or NULL (A not a point). */
ot_classic_receiver_t *
ot_classic_receiver_new(const uint8_t a_msg[OT_POINT_LEN], uint32_t idx,
                        uint8_t b_msg[OT_POINT_LEN]);
/* Open record idx of the server's answer with k_idx = H(A | B | bA) into
 * out[size].  0, -EBADMSG (tampered, or not the answer to this B), -EIO. */
int ot_classic_receiver_open(ot_classic_receiver_t *r, const uint8_t *answer,
                             uint32_t n, uint32_t size, uint8_t *out);
void ot_classic_receiver_free(ot_classic_receiver_t *r);

#endif
