// Package nhsdata reads NHS England's published practice-level files: NHS
// Digital's Payments to General Practice (annual, one row per practice),
// NHS England's practice need-weighted populations, and NHS Digital's
// monthly "Patients Registered at a GP Practice" totals. The readers are
// tolerant of what the real files do (a byte-order mark, columns renamed,
// added or dropped between years, thousands separators, blank cells) and
// strict about what matters: a missing required column or a malformed
// number is a *FieldError naming the file, line and column.
package nhsdata

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
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

// Errorf returns a *FieldError.
func Errorf(file string, line int, column, format string, a ...any) error {
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

// Reader reads a CSV file row by row with its header indexed, keeping the
// line each row starts on. Rows may have fewer or more fields than the
// header (real files do): Cell returns "" beyond a short row.
type Reader struct {
	File   string
	Header Header
	cr     *csv.Reader
	row    []string
	line   int
}

// NewReader reads the header row of r; name labels errors.
func NewReader(r io.Reader, name string) (*Reader, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	hdr, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errorf(name, 0, "", "is empty: expected a header row")
		}
		return nil, Errorf(name, 1, "", "cannot read the header: %v", err)
	}
	return &Reader{File: name, Header: NewHeader(hdr), cr: cr}, nil
}

// Need returns the column of the first of names present, or a *FieldError
// saying which names are accepted.
func (r *Reader) Need(what string, names ...string) (int, error) {
	if i := r.Header.Find(names...); i >= 0 {
		return i, nil
	}
	return -1, Errorf(r.File, 1, what, "no such column: accepted a header named %s", quoteList(names))
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// Next advances to the next row that is not blank; false at the end. A CSV
// syntax error is returned with its line.
func (r *Reader) Next() (bool, error) {
	for {
		rec, err := r.cr.Read()
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			return false, Errorf(r.File, line, "", "not valid CSV: %v", err)
		}
		r.line, _ = r.cr.FieldPos(0)
		blank := true
		for _, c := range rec {
			if strings.TrimSpace(c) != "" {
				blank = false
				break
			}
		}
		if blank {
			continue
		}
		r.row = rec
		return true, nil
	}
}

// Line is the line the current row starts on.
func (r *Reader) Line() int { return r.line }

// Cell is column i of the current row, trimmed; "" for i < 0 or beyond the row.
func (r *Reader) Cell(i int) string {
	if i < 0 || i >= len(r.row) {
		return ""
	}
	return strings.TrimSpace(r.row[i])
}

// Number parses column i of the current row (see ParseNumber). ok is false
// for a blank cell; a malformed one is a *FieldError naming the column.
func (r *Reader) Number(i int) (v float64, ok bool, err error) {
	v, ok, perr := ParseNumber(r.Cell(i))
	if perr != nil {
		return 0, false, Errorf(r.File, r.line, r.Header.Label(i), "%v", perr)
	}
	return v, ok, nil
}

// ParseNumber reads a number as published: thousands separators ("12,345"),
// a currency sign, surrounding spaces and accounting negatives ("(1,234)")
// are accepted. Blank, "-" and "NA"-like cells are missing (ok false).
// Anything else that is not a finite number is an error.
func ParseNumber(s string) (v float64, ok bool, err error) {
	t := strings.TrimSpace(s)
	switch strings.ToUpper(t) {
	case "", "-", "NA", "N/A", "NULL", "..", "*":
		return 0, false, nil
	}
	neg := false
	if strings.HasPrefix(t, "(") && strings.HasSuffix(t, ")") {
		neg, t = true, t[1:len(t)-1]
	}
	t = strings.TrimPrefix(strings.TrimPrefix(t, "£"), "-£")
	if strings.ContainsRune(t, ',') {
		if !validThousands(t) {
			return 0, false, fmt.Errorf("%q is not a number: accepted digits with an optional '.', thousands separated by ',' in threes", s)
		}
		t = strings.ReplaceAll(t, ",", "")
	}
	v, perr := strconv.ParseFloat(t, 64)
	if perr != nil || v != v || v > 1e15 || v < -1e15 {
		return 0, false, fmt.Errorf("%q is not a number: accepted a finite number such as 1234, 1,234 or 1234.56", s)
	}
	if neg {
		v = -v
	}
	if strings.HasPrefix(strings.TrimSpace(s), "-£") {
		v = -v
	}
	return v, true, nil
}

// validThousands says whether t groups its whole part in threes with commas.
func validThousands(t string) bool {
	t = strings.TrimPrefix(strings.TrimPrefix(t, "-"), "+")
	whole, _, _ := strings.Cut(t, ".")
	parts := strings.Split(whole, ",")
	if len(parts[0]) < 1 || len(parts[0]) > 3 {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) != 3 {
			return false
		}
	}
	return true
}
