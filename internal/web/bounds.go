package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// What one request may cost is bounded before anything is built from it:
// a YAML or JSON decoder makes a tree of its input, tens to hundreds of
// bytes a node, so a short text of many small items (a list of a million
// zeros is 2 MB) would take hundreds of megabytes. Each text is scanned
// first, in one pass that allocates nothing per item, and refused when
// it is longer, has more items or nests deeper than a scenario needs.
const (
	// maxScenarioBytes bounds a scenario's text (sent or uploaded). The
	// library's files are 0.5-2.5 KB; an area's practices come in a
	// list-size file (population), which has limits of its own.
	maxScenarioBytes = 256 << 10
	// maxScenarioItems bounds a scenario's YAML items: keys, values and
	// list entries. The default scenario resolved with every default has
	// about 600.
	maxScenarioItems = 20000
	// maxScenarioDepth bounds nesting: indentation levels and brackets
	// (the schema nests at most 5 deep).
	maxScenarioDepth = 32
	// maxSetItems bounds a request's set (fields and list entries), and
	// maxSetString each text in it. A list field (covered streams) has
	// a few names.
	maxSetItems  = 2000
	maxSetString = 1024
	maxSetDepth  = 3
	// maxPracticeCodes bounds the practices chosen from a list-size file
	// (England has about 6,500).
	maxPracticeCodes = 20000
)

// checkShape refuses a YAML text too long, with too many items or nested
// too deep to be a scenario, before a YAML decoder sees it. Items are
// counted from the characters that can start one (a line, a "-", ":",
// ",", "[", "{" or "?"), so the count is at least the number of nodes a
// decoder would make, whatever the text's quoting; depth from the
// indentation of lines and brackets open at once.
func checkShape(text []byte, field string) *apiError {
	if len(text) > maxScenarioBytes {
		return &apiError{status: 413, Field: field, Error: fmt.Sprintf("%s: the scenario's text is %s, more than the %s accepted (an area's practices go in a list-size file)",
			field, bytesWords(int64(len(text))), bytesWords(maxScenarioBytes))}
	}
	if !utf8.Valid(text) {
		return badField(field, "the scenario's text is not UTF-8: accepted a YAML file in UTF-8")
	}
	items, open, deepest := 0, 0, 0
	lineStart, indent := true, 0
	for _, c := range text {
		switch c {
		case '\n':
			items++
			lineStart, indent = true, 0
			continue
		case ' ':
			if lineStart {
				indent++
				if indent/2 > maxScenarioDepth {
					return badField(field, "the scenario's text is indented more than %d levels deep: accepted at most %d", maxScenarioDepth, maxScenarioDepth)
				}
			}
			continue
		case '-', ':', ',', '?':
			items++
		case '[', '{':
			items++
			open++
			deepest = max(deepest, open)
		case ']', '}':
			open = max(open-1, 0)
		}
		lineStart = false
		if items > maxScenarioItems {
			return badField(field, "the scenario's text has more than %d items (keys, values and list entries): accepted at most %d (an area's practices go in a list-size file)", maxScenarioItems, maxScenarioItems)
		}
		if deepest > maxScenarioDepth {
			return badField(field, "the scenario's text nests lists or mappings more than %d deep: accepted at most %d", maxScenarioDepth, maxScenarioDepth)
		}
	}
	return nil
}

// checkJSONShape refuses a JSON value with more than maxItems values
// (keys, numbers, texts and list entries), nested deeper than maxDepth, or
// with a text longer than maxString, reading it token by token.
func checkJSONShape(raw []byte, field string, maxItems, maxDepth, maxString int) *apiError {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	items, depth := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return badField(field, "is not valid JSON: %v", err)
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				depth++
				if depth > maxDepth {
					return badField(field, "nests more than %d deep: accepted at most %d", maxDepth, maxDepth)
				}
			} else {
				depth--
			}
		case string:
			if len(t) > maxString {
				return badField(field, "holds a text of %d bytes: accepted at most %d", len(t), maxString)
			}
		}
		items++
		if items > maxItems {
			return badField(field, "has more than %d items: accepted at most %d", maxItems, maxItems)
		}
	}
}
