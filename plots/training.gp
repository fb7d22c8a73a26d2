# Paper Figure 4: training loss and mask density against step, per variant.
# Variables: name, task, n (variants), titles (one word each), dens (indices
# of the variants with a density), window (running-mean steps).
set multiplot layout 1,2 title sprintf("Training on %s", task) noenhanced
set xlabel "training step"
set ylabel (window > 1 ? sprintf("training loss (running mean, %d steps)", window) : "training loss")
set key outside right top vertical samplen 2 font ",11"
set yrange [0:*]
set autoscale xfix
plot for [i=1:n] sprintf("data/%s-%d.dat", name, i) using 1:2 with lines lt i title word(titles, i)
set ylabel "mask density (%)"
set yrange [0:*]
set autoscale xfix
if (strlen(dens) > 0) {
    plot for [i in dens] sprintf("data/%s-%s.dat", name, i) using 1:3 with lines lt (i+0) title word(titles, i+0)
} else {
    set label 1 "no variant with a mask density" at graph 0.5, graph 0.5 center
    set yrange [0:100]
    plot 1/0 notitle
}
unset multiplot
