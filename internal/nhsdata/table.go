// Package nhsdata reads NHS England's published practice-level files: NHS
// Digital's Payments to General Practice (annual, one row per practice),
// NHS England's practice need-weighted populations, and NHS Digital's
// monthly "Patients Registered at a GP Practice" totals. The readers are
// tolerant of what the real files do (a byte-order mark, columns renamed,
// added or dropped between years, thousands separators, blank cells, no
// line end after the last row) and strict about what damage does: every
// file comes through one front door (NewReader, csvin.go), and a damaged
// file, a missing required column or a malformed number is a *FieldError
// naming the file, line and column.
package nhsdata

import (
	"fmt"
	"strings"
)

// FieldError is a problem in an input file: the file, the line (0: the file
// as a whole), the column (empty: the row or file) and what is accepted.
type FieldError struct {
	File   string
	Line   int
	Column string
	Msg    string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ", line %d", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ", column %q", e.Column)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	return b.String()
}

// FieldErrorf returns a *FieldError (as an error) for the file, line and
// column, its message formatted as fmt.Sprintf does.
func FieldErrorf(file string, line int, column, format string, a ...any) error {
	return &FieldError{File: file, Line: line, Column: column, Msg: fmt.Sprintf(format, a...)}
}

// NormalizeName is a column name as compared: without a byte-order mark,
// lower case, with '.', '_' and runs of white space (line breaks inside
// quoted names too) turned into single spaces, trimmed. "Doctors.Retainer",
// "Doctors Retainer " and "DOCTORS_RETAINER" compare equal.
func NormalizeName(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	s = strings.Map(func(r rune) rune {
		switch r {
		case '.', '_', '\n', '\r', '\t':
			return ' '
		}
		return r
	}, s)
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// Header finds columns by name, whatever their order, case or spacing.
type Header struct {
	Names []string // as in the file, for messages
	index map[string]int
}

// NewHeader indexes a header row. A repeated name keeps its first column.
func NewHeader(names []string) Header {
	h := Header{Names: append([]string(nil), names...), index: map[string]int{}}
	for i, n := range names {
		k := NormalizeName(n)
		if _, ok := h.index[k]; !ok && k != "" {
			h.index[k] = i
		}
	}
	return h
}

// Find returns the column of the first of names present, and -1 if none is.
func (h Header) Find(names ...string) int {
	for _, n := range names {
		if i, ok := h.index[NormalizeName(n)]; ok {
			return i
		}
	}
	return -1
}

// FindPrefix returns the first column whose name begins with prefix, and -1.
func (h Header) FindPrefix(prefix string) int {
	p := NormalizeName(prefix)
	for i, n := range h.Names {
		if strings.HasPrefix(NormalizeName(n), p) {
			return i
		}
	}
	return -1
}

// Label is column i's name as the file has it, tidied for messages.
func (h Header) Label(i int) string {
	if i < 0 || i >= len(h.Names) {
		return ""
	}
	return strings.Join(strings.Fields(strings.TrimPrefix(h.Names[i], "\ufeff")), " ")
}

// Count is how many columns are named name (compared as NormalizeName).
func (h Header) Count(name string) int {
	k, n := NormalizeName(name), 0
	for _, c := range h.Names {
		if NormalizeName(c) == k {
			n++
		}
	}
	return n
}
