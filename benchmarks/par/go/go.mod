module gort.local/benchmarks/par

go 1.19
