// Package request turns the untrusted JSON of a Grafana query into a
// validated Query: macros expanded, multi-value template variables split,
// every dimension, measure and value checked. Filters are only ever values
// for $in; nothing a user types can become a MongoDB operator.
package request
