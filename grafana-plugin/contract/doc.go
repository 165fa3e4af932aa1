// Package contract holds the plugin's contract tests: they build the real
// gpx_campaignpulse binary, launch it over hashicorp/go-plugin exactly as
// Grafana does (magic cookie, protocol 2, gRPC, no host environment) and
// call every handler against FerretDB and kfake seeded by the test bed's
// seed package, asserting against the truth it computes. `go test -short`
// skips them; `make plugin-contract` runs them and prints
// "contract: <n> passed, <n> failed".
package contract
