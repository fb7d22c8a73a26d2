# training-synthetic: drawn by `sbmbench report` from plots/training.gp; rerun in this folder with
#   gnuplot training-synthetic.gp              (PNG)   or   gnuplot -e 'term="svg"' training-synthetic.gp
if (!exists("term")) term = "png"
if (!exists("suffix")) suffix = ""
if (term eq "svg") {
    set terminal svg size 1400,450 dynamic enhanced font "Helvetica,13" background rgb "white"
    set output "training-synthetic.svg".suffix
} else {
    set terminal pngcairo size 1400,450 enhanced font "Helvetica,13" background rgb "white"
    set output "training-synthetic.png".suffix
}
# Shared look of the report's figures (prepended to every template): thin
# frame, light grid, the paper's sans-serif labels, colour-blind-safe lines.
set border 3 lw 1 lc rgb "#444444"
set tics nomirror out scale 0.6 textcolor rgb "#222222"
set grid back lw 1 lc rgb "#e5e5e5"
set key noenhanced box lc rgb "#cccccc" opaque
set datafile missing "NaN"
# Okabe-Ito palette
set linetype 1 lc rgb "#0072B2" lw 2 pt 7 ps 1.1
set linetype 2 lc rgb "#D55E00" lw 2 pt 5 ps 1.1
set linetype 3 lc rgb "#009E73" lw 2 pt 9 ps 1.2
set linetype 4 lc rgb "#CC79A7" lw 2 pt 11 ps 1.2
set linetype 5 lc rgb "#E69F00" lw 2 pt 13 ps 1.2
set linetype 6 lc rgb "#56B4E9" lw 2 pt 3 ps 1.1
set linetype 7 lc rgb "#000000" lw 2 pt 1 ps 1.1
set linetype 8 lc rgb "#F0E442" lw 2 pt 2 ps 1.1
set linetype cycle 8

# ---- this figure's data
name = "training-synthetic"
task = "synthetic"
n = 2
titles = "full sbm"
dens = "2"
window = 15

# ---- plots/training.gp
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
