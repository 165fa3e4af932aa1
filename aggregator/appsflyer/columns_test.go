package appsflyer

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// The golden header was typed from the reference sheet's column table (a
// 2024 real export and a 2026 live header agree), not generated from code.
func TestDefaultHeaderMatchesRealHeader(t *testing.T) {
	golden := filepath.Join("testdata", "default_header.csv")
	var got bytes.Buffer
	w := NewRowWriter(&got, nil)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Fatalf("header differs from %s:\ngot  %s\nwant %s", golden, got.String(), want)
	}
	if n := len(strings.Split(strings.TrimSpace(string(want)), ",")); n != 81 || len(DefaultColumns) != 81 {
		t.Fatalf("golden has %d columns, DefaultColumns %d; want 81", n, len(DefaultColumns))
	}
}

func TestColumnsUniqueAndPushSpelled(t *testing.T) {
	headers, fields := map[string]bool{}, map[string]bool{}
	for _, c := range DefaultColumns {
		if headers[c.Header] || fields[c.Field] {
			t.Errorf("duplicate column %+v", c)
		}
		headers[c.Header], fields[c.Field] = true, true
		if FieldForHeader(c.Header) != c.Field {
			t.Errorf("FieldForHeader(%q) = %q, want %q", c.Header, FieldForHeader(c.Header), c.Field)
		}
	}
	for api, h := range AdditionalFields {
		if headers[h] {
			t.Errorf("additional field %s reuses default header %q", api, h)
		}
		headers[h] = true
	}
	if len(AdditionalFieldNames) != len(AdditionalFields) {
		t.Fatalf("AdditionalFieldNames has %d names, AdditionalFields %d", len(AdditionalFieldNames), len(AdditionalFields))
	}
	for _, c := range []struct{ api, push string }{
		{"contributor1_af_prt", "contributor_1_af_prt"},
		{"contributor3_match_type", "contributor_3_match_type"},
		{"contributor_2_campaign", "contributor_2_campaign"},
		{"contributor", "contributor"},
		{"campaign", "campaign"},
	} {
		if got := PushFieldName(c.api); got != c.push {
			t.Errorf("PushFieldName(%q) = %q, want %q", c.api, got, c.push)
		}
	}
	if !fields["contributor_1_af_prt"] || fields["contributor1_af_prt"] {
		t.Error("contributor columns must use the push spelling")
	}
	if FieldForHeader("Contributor 2 Match Type") != "contributor_2_match_type" || FieldForHeader("Google Play Referrer") != "gp_referrer" {
		t.Error("additional headers must map to push field names")
	}
}

func TestFieldForUnknownHeader(t *testing.T) {
	for in, want := range map[string]string{
		"New Thing (beta)": "new_thing_beta",
		"  Spaced  Out  ":  "spaced_out",
		"ÜBER-Field":       "ber_field",
		"---":              "",
	} {
		if got := FieldForHeader(in); got != want {
			t.Errorf("FieldForHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReportClassification(t *testing.T) {
	for _, r := range Reports {
		if !IsReport(r) {
			t.Errorf("IsReport(%s) = false", r)
		}
	}
	if IsReport("uninstall_events_report") {
		t.Error("uninstalls are not pulled")
	}
	if !IsInAppReport(ReportOrganicInAppEvents) || IsInAppReport(ReportInstalls) {
		t.Error("IsInAppReport wrong")
	}
	if !IsOrganicReport(ReportOrganicInstalls) || IsOrganicReport(ReportInAppEvents) {
		t.Error("IsOrganicReport wrong")
	}
}
