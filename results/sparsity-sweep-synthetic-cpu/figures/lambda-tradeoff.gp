# lambda-tradeoff: drawn by `sbmbench report` from plots/lambda.gp; rerun in this folder with
#   gnuplot lambda-tradeoff.gp              (PNG)   or   gnuplot -e 'term="svg"' lambda-tradeoff.gp
if (!exists("term")) term = "png"
if (!exists("suffix")) suffix = ""
if (term eq "svg") {
    set terminal svg size 900,600 dynamic enhanced font "Helvetica,13" background rgb "white"
    set output "lambda-tradeoff.svg".suffix
} else {
    set terminal pngcairo size 900,600 enhanced font "Helvetica,13" background rgb "white"
    set output "lambda-tradeoff.png".suffix
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
n = 1
titles = "synthetic"
set arrow from graph 0, first 98.1506 to graph 1, first 98.1506 nohead dt 2 lw 1.5 lc 1
set label "full attention (synthetic)" at graph 0.98, first 98.1506 right offset 0,0.6 tc lt 1 font ",10" noenhanced

# ---- plots/lambda.gp
# Test accuracy against test density over a sbm_lambda sweep, one line per
# task (data/lambda-tradeoff-I.dat: lambda density density_std accuracy
# accuracy_std variant). Variables: n (tasks), titles (task names).
set title "SBM: accuracy against attention density over λ" enhanced
set xlabel "test mask density (%)"
set ylabel "test accuracy (%)"
set key bottom right
set offsets graph 0.05, graph 0.08, graph 0.08, graph 0.05
plot for [i=1:n] sprintf("data/lambda-tradeoff-%d.dat", i) using 2:4:3:5 with xyerrorbars lt i notitle, \
     for [i=1:n] sprintf("data/lambda-tradeoff-%d.dat", i) using 2:4 with linespoints lt i title word(titles, i), \
     for [i=1:n] sprintf("data/lambda-tradeoff-%d.dat", i) using 2:4:(sprintf("λ=%g", $1)) \
         with labels offset char 0.2,0.9 left font ",10" tc lt i notitle
