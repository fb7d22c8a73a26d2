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
