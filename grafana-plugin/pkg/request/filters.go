package request

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/macro"
)

func checkDimension(field, dim string) error {
	switch {
	case strings.HasPrefix(dim, "$"):
		return badf("%s %q starts with '$': dimensions are plain names, never operators or unexpanded variables", field, dim)
	case !metricdoc.IsDimension(dim):
		return badf("%s %q is not a dimension (one of %s)", field, dim, strings.Join(metricdoc.Dimensions, ", "))
	}
	return nil
}

// FilterSource is the filter key of a freshness query's source (push or
// pull): not a window dimension, but what the freshness rows are split by.
const FilterSource = "source"

// parseFilters checks every dimension and value. A value may be a single
// string or a list; each string is macro-expanded and, if it is a
// multi-value template variable rendered as {a,b} or ["a","b"], split.
// extra are further keys the query type accepts besides the dimensions.
func parseFilters(raw map[string]json.RawMessage, mc macro.Context, extra ...string) (map[string][]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	out := make(map[string][]string, len(raw))
	for dim, msg := range raw {
		if !slices.Contains(extra, dim) {
			if err := checkDimension("filter key", dim); err != nil {
				return nil, err
			}
		}
		var list []string
		var one string
		if err := json.Unmarshal(msg, &list); err != nil {
			if err := json.Unmarshal(msg, &one); err != nil {
				return nil, badf("filters.%s must be a list of strings (filters are literal values, never operators or objects)", dim)
			}
			list = []string{one}
		}
		if len(list) > MaxValues {
			return nil, badf("filters.%s has %d values, more than the limit of %d", dim, len(list), MaxValues)
		}
		values, all, err := expandValues(dim, list, mc)
		if err != nil {
			return nil, err
		}
		if all {
			continue
		}
		if len(values) == 0 {
			return nil, badf("filters.%s is empty: remove the key to match every value", dim)
		}
		out[dim] = values
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func expandValues(dim string, list []string, mc macro.Context) (values []string, all bool, err error) {
	for _, v := range list {
		v = macro.Expand(v, mc)
		for _, s := range splitMulti(v) {
			switch {
			case s == AllValue:
				all = true
				continue
			case strings.HasPrefix(s, "$"):
				return nil, false, badf("filters.%s value %q starts with '$': filters are literal values, never operators (is a template variable not defined here?)", dim, s)
			case macro.Contains(s):
				return nil, false, badf("filters.%s value %q holds an unexpanded template variable", dim, s)
			case len(s) > MaxValueLength:
				return nil, false, badf("filters.%s has a value longer than %d bytes", dim, MaxValueLength)
			}
			values = append(values, s)
		}
	}
	if len(values) > MaxValues {
		return nil, false, badf("filters.%s has %d values after expanding variables, more than the limit of %d", dim, len(values), MaxValues)
	}
	slices.Sort(values)
	return slices.Compact(values), all, nil
}

// splitMulti splits Grafana's renderings of a multi-value variable: the
// default glob format {a,b,c} and the :json format ["a","b"].
func splitMulti(v string) []string {
	if len(v) >= 2 && v[0] == '{' && v[len(v)-1] == '}' && !strings.HasPrefix(v, "{\"") {
		return strings.Split(v[1:len(v)-1], ",")
	}
	if len(v) >= 2 && v[0] == '[' && v[len(v)-1] == ']' {
		var list []string
		if json.Unmarshal([]byte(v), &list) == nil {
			return list
		}
	}
	return []string{v}
}
