# Latency against offered load, one line per target and percentile.
# bench/results.sh sets the terminal, the output and plotcmd (the data
# columns depend on which targets ran) and, for the WebSocket and CoAP
# ingress plots, plottitle.
if (!exists("plottitle")) plottitle = "HTTP relay, open loop: latency against offered load"
set title plottitle
set xlabel "offered load (exchanges/s)"
set ylabel "latency (us)"
set logscale y
set key top left
set grid
eval plotcmd
