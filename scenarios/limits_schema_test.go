package scenarios

import (
	"encoding/json"
	"testing"
)

// The schema's struct tags repeat MaxYears (a tag cannot name a constant):
// every years and from_year field's maximum in the schema must be it.
func TestSchemaYearsMaximumIsMaxYears(t *testing.T) {
	b, err := json.Marshal(Schema())
	if err != nil {
		t.Fatal(err)
	}
	var root any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	found := 0
	var visit func(v any)
	visit = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if props, ok := x["properties"].(map[string]any); ok {
				for _, name := range []string{"years", "from_year"} {
					if f, ok := props[name].(map[string]any); ok {
						found++
						if m, _ := f["maximum"].(float64); m != MaxYears {
							t.Errorf("schema field %s: maximum %v, want MaxYears %d", name, f["maximum"], MaxYears)
						}
					}
				}
			}
			for _, c := range x {
				visit(c)
			}
		case []any:
			for _, c := range x {
				visit(c)
			}
		}
	}
	visit(root)
	if found < 3 {
		t.Errorf("found %d years fields in the schema, want the scenario's, earned autonomy's and a contract step's", found)
	}
}
