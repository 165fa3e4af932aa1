// Package docs holds the operator documentation (config.md, metrics.md,
// operations.md). Its only Go code is the test that keeps metrics.md in
// step with the series the binaries register; config.md is checked next
// to the flags, in aggregator/cmd/campaignpulse.
package docs
