# Resident memory against connected idle agents, one line per target and
# transport.  bench/results.sh sets the terminal, the output and plotcmd.
set title "Idle agents: resident memory against connected agents"
set xlabel "idle agents connected"
set ylabel "RSS (MiB)"
set key top left
set grid
eval plotcmd
