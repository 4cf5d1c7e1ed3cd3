# Latency against offered load, one line per target and percentile.
# bench/results.sh sets the terminal, the output and plotcmd (the data
# columns depend on which targets ran).
set title "HTTP relay, open loop: latency against offered load"
set xlabel "offered load (exchanges/s)"
set ylabel "latency (us)"
set logscale y
set key top left
set grid
eval plotcmd
