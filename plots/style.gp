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
