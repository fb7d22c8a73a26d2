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
