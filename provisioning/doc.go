// Package provisioning holds no code: this folder is what Grafana reads from
// /etc/grafana/provisioning (datasources, dashboard providers, alerting).
// Its tests check those files and the dashboards in ../dashboards statically
// (UIDs, references, query models) and run every dashboard and alert-rule
// query through the plugin's QueryData against FerretDB and kfake seeded by
// the test bed's seed package, comparing the answers with its truth.
package provisioning
