# maps-pathfinder-sbm-sbm_lambda=0.1-s1: drawn by `sbmbench report` from plots/density_maps.gp; rerun in this folder with
#   gnuplot maps-pathfinder-sbm-sbm_lambda=0.1-s1.gp              (PNG)   or   gnuplot -e 'term="svg"' maps-pathfinder-sbm-sbm_lambda=0.1-s1.gp
if (!exists("term")) term = "png"
if (!exists("suffix")) suffix = ""
if (term eq "svg") {
    set terminal svg size 990,1670 dynamic enhanced font "Helvetica,13" background rgb "white"
    set output "maps-pathfinder-sbm-sbm_lambda=0.1-s1.svg".suffix
} else {
    set terminal pngcairo size 990,1670 enhanced font "Helvetica,13" background rgb "white"
    set output "maps-pathfinder-sbm-sbm_lambda=0.1-s1.png".suffix
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
name = "maps-pathfinder-sbm-sbm_lambda=0.1-s1"
run = "pathfinder-sbm-sbm_lambda=0.1-s1"
K = 8
LH = 4
side = 16
array intitles[K] = ["test #250, label 0\nmean density 0.022", "test #81, label 0\nmean density 0.029", "test #176, label 0\nmean density 0.034", "test #33, label 0\nmean density 0.034", "test #120, label 0\nmean density 0.080", "test #151, label 0\nmean density 0.088", "test #246, label 0\nmean density 0.088", "test #25, label 0\nmean density 0.091"]
array maptitles[K * LH] = ["L1 H1: 0.024", "L1 H2: 0.023", "L2 H1: 0.021", "L2 H2: 0.019", "L1 H1: 0.031", "L1 H2: 0.032", "L2 H1: 0.027", "L2 H2: 0.025", "L1 H1: 0.035", "L1 H2: 0.038", "L2 H1: 0.032", "L2 H2: 0.029", "L1 H1: 0.035", "L1 H2: 0.036", "L2 H1: 0.034", "L2 H2: 0.031", "L1 H1: 0.085", "L1 H2: 0.089", "L2 H1: 0.074", "L2 H2: 0.070", "L1 H1: 0.095", "L1 H2: 0.096", "L2 H1: 0.082", "L2 H2: 0.079", "L1 H1: 0.094", "L1 H2: 0.098", "L2 H1: 0.083", "L2 H2: 0.078", "L1 H1: 0.098", "L1 H2: 0.099", "L2 H1: 0.086", "L2 H2: 0.079"]

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
