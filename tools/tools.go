//go:build tools

// Package tools pins modules that the code base is about to import, so that
// every session shares one go.mod while packages are written in parallel.
package tools

import (
	_ "github.com/compose-spec/compose-go/v2/loader"
	_ "github.com/grafana/grafana-plugin-sdk-go/backend"
	_ "github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	_ "github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	_ "github.com/grafana/grafana-plugin-sdk-go/data"
	_ "github.com/hashicorp/go-plugin"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/sethvargo/go-retry"
	_ "github.com/twmb/franz-go/pkg/kadm"
	_ "github.com/twmb/franz-go/plugin/kprom"
	_ "github.com/twmb/franz-go/plugin/kslog"
)
