# layer-density: drawn by `sbmbench report` from plots/layer_density.gp; rerun in this folder with
#   gnuplot layer-density.gp              (PNG)   or   gnuplot -e 'term="svg"' layer-density.gp
if (!exists("term")) term = "png"
if (!exists("suffix")) suffix = ""
if (term eq "svg") {
    set terminal svg size 570,500 dynamic enhanced font "Helvetica,13" background rgb "white"
    set output "layer-density.svg".suffix
} else {
    set terminal pngcairo size 570,500 enhanced font "Helvetica,13" background rgb "white"
    set output "layer-density.png".suffix
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
rows = 1
have0 = 1
have1 = 0

# ---- plots/layer_density.gp
# Paper Figure 5: mask density per task and layer (L1 lower, L2 upper, ...),
# mean over heads, bars the mean and error bars the std over test examples.
# data/layer-density.dat: "task:Ll  mean0 std0  mean1 std1" for the best
# λ = 0 and best λ > 0 variant (NaN: none). Variables: rows, have0, have1
# (whether any task has a λ = 0 / λ > 0 variant).
set title "SBM: mask density per layer over the test set"
set ylabel "mask density (%)"
set style data histogram
set style histogram errorbars gap 1.5 lw 1.2
set style fill solid 0.85 border rgb "#333333"
set boxwidth 0.9
set yrange [0:*]
set xtics rotate by -30 noenhanced
set key inside top right vertical
set offsets 0, 0, graph 0.12, 0
set xrange [-0.6:rows - 0.4]
if (have0 && have1) {
    plot "data/layer-density.dat" using 2:3:xtic(1) lt 1 title "λ = 0 (best)", \
         "" using 4:5 lt 2 title "λ > 0 (best)"
} else {
    if (have0) {
        plot "data/layer-density.dat" using 2:3:xtic(1) lt 1 title "λ = 0"
    } else {
        plot "data/layer-density.dat" using 4:5:xtic(1) lt 2 title "λ > 0 (best)"
    }
}
