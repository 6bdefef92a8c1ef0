// Package clustertest is a test suite run against a LIVE kvnode cluster. Its test files
// carry the build tag "clustertest", so a plain `go test ./...` skips them. Build the
// binary (from cmd/) and run it on a host that resolves the replicas' hostnames, e.g.
// inside one of the nodes:
//
//	go test -c -tags clustertest -o service/cluster.test ./clustertest
//	CFG_PATH=/root/Cluster.config ./cluster.test -test.v
//
// The replica table is read from $CFG_PATH (default /root/Cluster.config); a replica is
// reached at http://<hostname>:<port>. Every check retries for $CLUSTERTEST_WAIT (a Go
// duration, default 10s) so that a freshly started cluster passes.
package clustertest
