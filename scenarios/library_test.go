package scenarios

import (
	"strings"
	"testing"
)

// Each built-in scenario says what it is: its own description, not the
// default area's inherited (england-2009 is not "50 practices").
func TestLibraryDescriptionsAreTheirOwn(t *testing.T) {
	def, err := Load("default")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range Names() {
		s, err := Load(n)
		if err != nil {
			t.Fatal(err)
		}
		d := strings.TrimSpace(s.Description)
		if d == "" || (n != "default" && d == strings.TrimSpace(def.Description)) {
			t.Errorf("%s: description %q is empty or the default area's", n, d)
		}
	}
	e, _ := Load("england-2009")
	if !strings.Contains(e.Description, "8,300") {
		t.Errorf("england-2009 says %q", e.Description)
	}
}
