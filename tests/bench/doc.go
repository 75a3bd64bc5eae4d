// Package bench holds the project's speed and size measurements as Go
// benchmarks: build times (warm and cold image store), component image and
// payload sizes, and QEMU boot times, init phases and memory use. They
// report numbers with b.ReportMetric and a readable summary with b.Logf;
// they assert nothing about speed. Run them with
//
//	go test -run '^$' -bench . -benchtime 1x ./tests/bench
//
// They skip under -short and where mmdebstrap or QEMU is missing.
package bench
