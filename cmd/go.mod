module example.com/kvnode

go 1.22
