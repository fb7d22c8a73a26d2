# maps-pathfinder-sbm-s1: drawn by `sbmbench report` from plots/density_maps.gp; rerun in this folder with
#   gnuplot maps-pathfinder-sbm-s1.gp              (PNG)   or   gnuplot -e 'term="svg"' maps-pathfinder-sbm-s1.gp
if (!exists("term")) term = "png"
if (!exists("suffix")) suffix = ""
if (term eq "svg") {
    set terminal svg size 990,1670 dynamic enhanced font "Helvetica,13" background rgb "white"
    set output "maps-pathfinder-sbm-s1.svg".suffix
} else {
    set terminal pngcairo size 990,1670 enhanced font "Helvetica,13" background rgb "white"
    set output "maps-pathfinder-sbm-s1.png".suffix
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
name = "maps-pathfinder-sbm-s1"
run = "pathfinder-sbm-s1"
K = 8
LH = 4
side = 16
array intitles[K] = ["test #160, label 0\nmean density 0.079", "test #176, label 0\nmean density 0.082", "test #217, label 0\nmean density 0.083", "test #64, label 0\nmean density 0.087", "test #239, label 0\nmean density 0.137", "test #123, label 0\nmean density 0.140", "test #124, label 0\nmean density 0.142", "test #184, label 0\nmean density 0.143"]
array maptitles[K * LH] = ["L1 H1: 0.078", "L1 H2: 0.079", "L2 H1: 0.080", "L2 H2: 0.078", "L1 H1: 0.080", "L1 H2: 0.083", "L2 H1: 0.082", "L2 H2: 0.081", "L1 H1: 0.084", "L1 H2: 0.085", "L2 H1: 0.084", "L2 H2: 0.081", "L1 H1: 0.087", "L1 H2: 0.086", "L2 H1: 0.088", "L2 H2: 0.088", "L1 H1: 0.136", "L1 H2: 0.138", "L2 H1: 0.137", "L2 H2: 0.136", "L1 H1: 0.138", "L1 H2: 0.141", "L2 H1: 0.139", "L2 H2: 0.141", "L1 H1: 0.141", "L1 H2: 0.143", "L2 H1: 0.141", "L2 H2: 0.142", "L1 H1: 0.141", "L1 H2: 0.144", "L2 H1: 0.144", "L2 H2: 0.144"]

# ---- plots/density_maps.gp
# Paper Figures 7/8: each row one test example (lowest density at the top,
# highest at the bottom): the input image, then per layer and head how many
# queries attend to each pixel (brighter = more), with the head's density.
# Variables: name, run, K (examples), LH (layers x heads), side (image side),
# arrays intitles[K], maptitles[K*LH].
set multiplot layout K, 1 + LH title sprintf("%s: input, then queries attending each pixel per layer/head; density low to high", run) noenhanced \
    margins 0.02, 0.98, 0.01, 1 - 0.5 / K spacing 0.02, 0.3 / K
unset key
unset tics
unset border
unset grid
unset colorbox
set size ratio -1
set xrange [-0.5:side - 0.5]
set yrange [side - 0.5:-0.5]
set title font ",10" noenhanced
do for [k = 0:K - 1] {
    set palette gray
    set title intitles[k + 1]
    plot sprintf("data/%s-%d-input.dat", name, k) matrix with image
    set palette defined (0 "#440154", 1 "#3b528b", 2 "#21918c", 3 "#5ec962", 4 "#fde725")
    do for [j = 0:LH - 1] {
        set title maptitles[k * LH + j + 1]
        plot sprintf("data/%s-%d-%d.dat", name, k, j) matrix with image
    }
}
unset multiplot
