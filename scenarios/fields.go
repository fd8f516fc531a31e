package scenarios

import (
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The one walker of dotted field paths through a scenario's YAML: the
// validator's lines, what a file itself sets, and the what-if page's
// settings written into a scenario file (internal/web) all go through it.

// lineOf finds the line of a dotted field path ("streams.ae.rate.male[3]") in a
// YAML document: the field's, or the nearest enclosing field's that the file
// has; 0 when none is in the file (a default).
func lineOf(root *yaml.Node, field string) int {
	_, line := walk(root, field)
	return line
}

// FieldNode is a dotted field's value node ("streams.ae.rate.male[3]")
// in a YAML document or mapping, or nil if it lacks the field.
func FieldNode(root *yaml.Node, field string) *yaml.Node {
	n, _ := walk(root, field)
	return n
}

// walk reads a dotted field path (with [i] for a sequence's element)
// through a YAML document: the field's value node, nil if the file lacks
// it, and the line of the deepest part of the path the file has. SetField
// is its writing half.
func walk(root *yaml.Node, field string) (*yaml.Node, int) {
	if root == nil {
		return nil, 0
	}
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range strings.Split(field, ".") {
		idx := -1
		if i := strings.IndexByte(part, '['); i >= 0 {
			idx, _ = strconv.Atoi(strings.TrimSuffix(part[i+1:], "]"))
			part = part[:i]
		}
		if n.Kind != yaml.MappingNode {
			return nil, line
		}
		found := false
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == part {
				line = n.Content[j].Line
				n = n.Content[j+1]
				found = true
				break
			}
		}
		if !found {
			return nil, line
		}
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return nil, line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return n, line
}

// SetField sets the value of a dotted field path (mapping keys only, such
// as "rule.stop_loss.threshold") in a YAML document or mapping, making the
// mappings on the way; a nil value removes the key. The file's comments
// stay where they were (a replaced value keeps the old one's line comment).
func SetField(root *yaml.Node, field string, v *yaml.Node) {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	path := strings.Split(field, ".")
	for d, k := range path {
		last := d == len(path)-1
		idx := -1
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				idx = i
			}
		}
		if last {
			switch {
			case v == nil && idx >= 0:
				n.Content = slices.Delete(n.Content, idx, idx+2)
			case v == nil:
			case idx >= 0:
				v.LineComment = n.Content[idx+1].LineComment
				n.Content[idx+1] = v
			default:
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, v)
			}
			return
		}
		if idx < 0 {
			if v == nil {
				return
			}
			m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, m)
			n = m
			continue
		}
		next := n.Content[idx+1]
		if next.Kind != yaml.MappingNode {
			if v == nil {
				return
			}
			next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			n.Content[idx+1] = next
		}
		n = next
	}
}
