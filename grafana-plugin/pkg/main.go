// Command gpx_campaignpulse is the backend of the campaignpulse Grafana
// datasource. Grafana starts it as a go-plugin process; it is not meant to
// be run by hand.
package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/plugin"
)

func main() {
	if err := datasource.Manage(plugin.PluginID, plugin.Factory, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error("serve plugin", "err", err)
		os.Exit(1)
	}
}
