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
