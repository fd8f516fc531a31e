package scenarios

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// SetField makes the mappings on the way, replaces a value keeping its line
// comment, and removes a key; FieldNode reads each back, [i] included.
func TestSetFieldAndFieldNode(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("name: x # mine\nstreams:\n  ae:\n    rate:\n      male: [1, 2, 3]\nyears: 5\n"), &doc); err != nil {
		t.Fatal(err)
	}
	if n := FieldNode(&doc, "streams.ae.rate.male[2]"); n == nil || n.Value != "3" {
		t.Fatalf("streams.ae.rate.male[2] = %v, want 3", n)
	}
	if FieldNode(&doc, "streams.ae.rate.female") != nil || FieldNode(&doc, "years.x") != nil {
		t.Error("a field the file lacks was found")
	}
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	SetField(&doc, "name", str("y"))
	SetField(&doc, "rule.stop_loss.threshold", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "7"})
	SetField(&doc, "years", nil)
	SetField(&doc, "absent.key", nil) // nothing to remove: no mapping made
	b, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{"name: y # mine\n", "rule:\n    stop_loss:\n        threshold: 7\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("document lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "years") || strings.Contains(got, "absent") {
		t.Errorf("years not removed, or absent made:\n%s", got)
	}
	if n := FieldNode(&doc, "rule.stop_loss.threshold"); n == nil || n.Value != "7" {
		t.Errorf("rule.stop_loss.threshold = %v, want 7", n)
	}
}
