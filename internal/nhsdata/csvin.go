package nhsdata

// The CSV front door: every NHS and history reader opens its file through
// NewReader, which names the encoding, line endings and separator it found
// (or refuses, naming them) and refuses what a damaged download or a
// spreadsheet's save leaves behind: an unclosed or stray quote, a row with
// more or fewer fields than the header, a final row cut short, a control
// character in a code, a needed column given twice, a number that is not a
// plain decimal. Missing values are counted by column, never taken as 0 in
// silence.

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Format is what the front door found in a file.
type Format struct {
	Encoding  string // "UTF-8", "UTF-8 with byte-order mark" or "Latin-1" (UTF-16 is refused by name)
	LineEnd   string // "CRLF", "LF" or "CR"
	Separator rune   // ',' or '\t'
	// FinalLineEnd is false where the last row has no line end (NHS
	// Digital's payments files end so); Options.Unterminated vouches for it.
	FinalLineEnd bool
}

func (f Format) String() string {
	sep := "comma"
	if f.Separator == '\t' {
		sep = "tab"
	}
	return fmt.Sprintf("%s, %s line ends, %s-separated", f.Encoding, f.LineEnd, sep)
}

// Options are a reader's choices about what its files may do.
type Options struct {
	// Unterminated, if set, is asked about a final row without its line
	// end (the reader's current row): nil accepts it as whole. Without it
	// such a row is refused, as a file cut short.
	Unterminated func(r *Reader) error
}

// Limits of the front door. NHS files' lines are under 4 KiB (the longest
// payments header is about 3 KiB): a longer line is a file whose line
// breaks were lost, or not CSV text, and is refused before it is held.
const (
	peekBytes    = 64 << 10
	maxLineBytes = 1 << 20
	maxFields    = 4096
)

// Missing counts the cells of one column read as missing.
type Missing struct {
	Column    string
	Count     int
	FirstLine int
	Values    map[string]int // the cells as written ("" blank, "-", "N/A", ...)
}

// Reader reads a CSV file row by row with its header indexed, keeping the
// line each row starts on. Every row has as many fields as the header.
type Reader struct {
	File   string
	Header Header
	Format Format

	opts    Options
	cr      *csv.Reader
	guard   *lineGuard
	row     []string
	line    int
	next    []string // the row after the current one: a final row is known by it
	nextLn  int
	nextErr error
	missing map[int]*Missing
}

// NewReader reads the header row of r; name labels errors.
func NewReader(r io.Reader, name string) (*Reader, error) {
	return NewReaderOptions(r, name, Options{})
}

// NewReaderOptions is NewReader with a reader's options.
func NewReaderOptions(r io.Reader, name string, opts Options) (*Reader, error) {
	raw := bufio.NewReaderSize(r, peekBytes)
	head, _ := raw.Peek(peekBytes)
	var f Format
	var dec io.Reader
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		raw.Discard(3)
		f.Encoding, dec = "UTF-8 with byte-order mark", raw
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), len(head) >= 2 && head[0] != 0 && head[1] == 0:
		return nil, FieldErrorf(name, 1, "", "is UTF-16LE text (as spreadsheets save \"Unicode text\"): accepted UTF-8 (with or without a byte-order mark) or Latin-1 CSV, as NHS England and NHS Digital publish; save it as \"CSV UTF-8\"")
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}), len(head) >= 2 && head[0] == 0 && head[1] != 0:
		return nil, FieldErrorf(name, 1, "", "is UTF-16BE text: accepted UTF-8 (with or without a byte-order mark) or Latin-1 CSV, as NHS England and NHS Digital publish; save it as \"CSV UTF-8\"")
	case !validUTF8Prefix(head, len(head) == peekBytes):
		// Spreadsheets on Windows save "CSV" in their code page: a £ is
		// the one byte 0xA3.
		f.Encoding, dec = "Latin-1", &latin1Reader{r: raw}
	default:
		f.Encoding, dec = "UTF-8", raw
	}
	text := bufio.NewReaderSize(dec, peekBytes)
	th, err := text.Peek(peekBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, FieldErrorf(name, 1, "", "cannot read it as %s: %v", f.Encoding, err)
	}
	if len(th) == 0 {
		return nil, FieldErrorf(name, 0, "", "is empty: expected a header row")
	}
	var src io.Reader = text
	nl, cr := bytes.IndexByte(th, '\n'), bytes.IndexByte(th, '\r')
	switch {
	case nl < 0 && cr < 0 && len(th) == peekBytes:
		return nil, FieldErrorf(name, 1, "", "has no line break in its first %d KiB (%s): its line breaks were lost, or it is not a CSV file", peekBytes>>10, f.Encoding)
	case nl < 0 && cr >= 0:
		f.LineEnd, src = "CR", &crReader{r: text} // old Mac or some exports: CR alone ends a line
	case cr >= 0 && cr+1 == nl:
		f.LineEnd = "CRLF"
	default:
		f.LineEnd = "LF"
	}
	end := len(th)
	if i := bytes.IndexAny(th, "\r\n"); i >= 0 {
		end = i
	}
	sep, err := separator(th[:end])
	if err != nil {
		return nil, FieldErrorf(name, 1, "", "%v (%s)", err, f.Encoding)
	}
	f.Separator = sep
	g := &lineGuard{r: src, line: 1}
	c := csv.NewReader(g)
	c.Comma = sep
	c.FieldsPerRecord = 0 // every row as many fields as the header
	hdr, err := c.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, FieldErrorf(name, 0, "", "is empty: expected a header row")
		}
		if g.err != nil {
			return nil, FieldErrorf(name, g.line, "", "%v", g.err)
		}
		return nil, FieldErrorf(name, 1, "", "cannot read the header (%s): %v", f, err)
	}
	if len(hdr) > maxFields {
		return nil, FieldErrorf(name, 1, "", "the header has %d fields: accepted up to %d (%s)", len(hdr), maxFields, f)
	}
	for i, h := range hdr {
		if j := strings.IndexFunc(h, isBadControl); j >= 0 {
			return nil, FieldErrorf(name, 1, "", "column %d's name holds the control character %U: a damaged file (%s)", i+1, h[j], f)
		}
	}
	rd := &Reader{File: name, Header: NewHeader(hdr), Format: f, opts: opts, cr: c, guard: g, missing: map[int]*Missing{}}
	rd.advance()
	return rd, nil
}

// separator is the header line's separator: comma or tab, whichever is
// more common outside quotes. Semicolons (a spreadsheet's European CSV,
// whose numbers may carry a decimal comma) and bars are refused by name.
func separator(hdr []byte) (rune, error) {
	n := map[byte]int{}
	q := false
	for _, b := range hdr {
		switch {
		case b == '"':
			q = !q
		case !q:
			n[b]++
		}
	}
	best := byte(',')
	for _, b := range []byte{'\t', ';', '|'} {
		if n[b] > n[best] {
			best = b
		}
	}
	switch best {
	case ',':
		return ',', nil
	case '\t':
		return '\t', nil
	case ';':
		return 0, errors.New("is separated by ';' (a spreadsheet's European CSV, whose numbers may use a decimal comma): accepted comma- or tab-separated files; save as \"CSV UTF-8 (comma delimited)\"")
	}
	return 0, fmt.Errorf("is separated by %q: accepted comma- or tab-separated files", best)
}

// validUTF8Prefix says whether b is UTF-8, allowing a rune cut at the end
// when b is only the file's first part.
func validUTF8Prefix(b []byte, part bool) bool {
	if part {
		for k := 0; k < utf8.UTFMax && len(b) > 0; k++ {
			if r, _ := utf8.DecodeLastRune(b); r != utf8.RuneError || utf8.Valid(b) {
				break
			}
			b = b[:len(b)-1]
		}
	}
	return utf8.Valid(b)
}

// isBadControl is a control character no NHS file holds in a cell: all but
// tab, line feed and carriage return (quoted names hold line breaks).
func isBadControl(r rune) bool {
	return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'
}

// advance reads the row after the current one.
func (r *Reader) advance() {
	rec, err := r.cr.Read()
	r.next, r.nextErr, r.nextLn = rec, nil, 0
	if r.guard.err != nil {
		r.next, r.nextErr = nil, FieldErrorf(r.File, r.guard.line, "", "%v", r.guard.err)
		return
	}
	if err != nil {
		r.next = nil
		if errors.Is(err, io.EOF) {
			r.nextErr = io.EOF
			return
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			switch {
			case errors.Is(pe.Err, csv.ErrFieldCount):
				r.nextErr = FieldErrorf(r.File, pe.StartLine, "", "has %d fields, the header %d: accepted rows of as many fields as the header (a row cut short, a stray %s or an unclosed quote?)", len(rec), len(r.Header.Names), sepName(r.Format.Separator))
			case errors.Is(pe.Err, csv.ErrQuote), errors.Is(pe.Err, csv.ErrBareQuote):
				r.nextErr = FieldErrorf(r.File, pe.StartLine, "", "an unclosed or stray quote (at line %d, column %d): accepted fields wholly quoted, with \"\" for a quote inside", pe.Line, pe.Column)
			default:
				r.nextErr = FieldErrorf(r.File, pe.StartLine, "", "not valid CSV: %v", pe.Err)
			}
			return
		}
		r.nextErr = FieldErrorf(r.File, 0, "", "cannot read it: %v", err)
		return
	}
	r.nextLn, _ = r.cr.FieldPos(0)
	if r.Format.Encoding == "UTF-8" || r.Format.Encoding == "UTF-8 with byte-order mark" {
		for _, c := range rec {
			if !utf8.ValidString(c) {
				r.next, r.nextErr = nil, FieldErrorf(r.File, r.nextLn, "", "is not UTF-8 here though its first %d KiB are: a file of mixed encodings (save it as \"CSV UTF-8\")", peekBytes>>10)
				return
			}
		}
	}
	for _, c := range rec {
		if j := strings.IndexFunc(c, isBadControl); j >= 0 {
			r.next, r.nextErr = nil, FieldErrorf(r.File, r.nextLn, "", "a cell holds the control character %U: a damaged file", []rune(c[j:])[0])
			return
		}
	}
}

func sepName(s rune) string {
	if s == '\t' {
		return "tab"
	}
	return "comma"
}

// Need returns the column of the first of names present, or a *FieldError
// saying which names are accepted. A column named twice is refused: which
// one the publisher meant cannot be known.
func (r *Reader) Need(what string, names ...string) (int, error) {
	i, err := r.Want(what, names...)
	if err == nil && i < 0 {
		err = FieldErrorf(r.File, 1, what, "no such column: accepted a header named %s", quoteList(names))
	}
	return i, err
}

// Want is Need for a column that may be absent (-1).
func (r *Reader) Want(what string, names ...string) (int, error) {
	i := r.Header.Find(names...)
	if i < 0 {
		return -1, nil
	}
	return i, r.once(what, i)
}

// WantPrefix is Want for the first column whose name begins with prefix.
func (r *Reader) WantPrefix(what, prefix string) (int, error) {
	i := r.Header.FindPrefix(prefix)
	if i < 0 {
		return -1, nil
	}
	return i, r.once(what, i)
}

func (r *Reader) once(what string, i int) error {
	var at []string
	k := NormalizeName(r.Header.Names[i])
	for j, n := range r.Header.Names {
		if NormalizeName(n) == k {
			at = append(at, strconv.Itoa(j+1))
		}
	}
	if len(at) > 1 {
		return FieldErrorf(r.File, 1, r.Header.Label(i), "appears %d times (columns %s): accepted one column for the %s", len(at), strings.Join(at, ", "), what)
	}
	return nil
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
		if r.nextErr != nil {
			if errors.Is(r.nextErr, io.EOF) {
				return false, nil
			}
			return false, r.nextErr
		}
		r.row, r.line = r.next, r.nextLn
		r.advance()
		blank := true
		for _, c := range r.row {
			if strings.TrimSpace(c) != "" {
				blank = false
				break
			}
		}
		if blank {
			continue
		}
		if errors.Is(r.nextErr, io.EOF) && !r.guard.lineEnded() {
			r.Format.FinalLineEnd = false
			if r.opts.Unterminated == nil {
				return false, FieldErrorf(r.File, r.line, "", "the last row has no line end: a file cut short? (accepted a file whose every row ends with a line break)")
			}
			if err := r.opts.Unterminated(r); err != nil {
				return false, err
			}
		} else {
			r.Format.FinalLineEnd = true
		}
		return true, nil
	}
}

// Line is the line the current row starts on.
func (r *Reader) Line() int { return r.line }

// Cell is column i of the current row, trimmed; "" for i < 0.
func (r *Reader) Cell(i int) string {
	if i < 0 || i >= len(r.row) {
		return ""
	}
	return strings.TrimSpace(r.row[i])
}

// Code is column i of the current row as an organisation code: upper case,
// letters and digits only (a code with a space, a stray character or a
// byte of damage would otherwise become a new practice). "" where blank.
func (r *Reader) Code(i int) (string, error) {
	c := strings.ToUpper(r.Cell(i))
	for _, ch := range c {
		if !(ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9') {
			return "", FieldErrorf(r.File, r.line, r.Header.Label(i), "%q is not a code: accepted letters and digits (such as A81001)", c)
		}
	}
	return c, nil
}

// Number parses column i of the current row (see ParseNumber). ok is false
// for a missing cell, which is counted (Missing); a malformed one is a
// *FieldError naming the column.
func (r *Reader) Number(i int) (v float64, ok bool, err error) {
	c := r.Cell(i)
	v, ok, perr := ParseNumber(c)
	if perr != nil {
		return 0, false, FieldErrorf(r.File, r.line, r.Header.Label(i), "%v", perr)
	}
	if !ok && i >= 0 {
		m := r.missing[i]
		if m == nil {
			m = &Missing{Column: r.Header.Label(i), FirstLine: r.line, Values: map[string]int{}}
			r.missing[i] = m
		}
		m.Count++
		m.Values[c]++
	}
	return v, ok, nil
}

// Missing lists, by column in file order, the cells Number read as missing.
func (r *Reader) Missing() []Missing {
	var out []Missing
	for _, m := range r.missing {
		out = append(out, *m)
	}
	sort.Slice(out, func(a, b int) bool {
		return out[a].FirstLine < out[b].FirstLine || out[a].FirstLine == out[b].FirstLine && out[a].Column < out[b].Column
	})
	return out
}

// String says "N blank, M "-"" for messages.
func (m Missing) String() string {
	var parts []string
	for v, n := range m.Values {
		if v == "" {
			v = "blank"
		} else {
			v = strconv.Quote(v)
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, v))
	}
	sort.Strings(parts)
	return fmt.Sprintf("%q: %d missing (%s; first on line %d)", m.Column, m.Count, strings.Join(parts, ", "), m.FirstLine)
}

// missingCells are the cells publishers write for "no value".
var missingCells = map[string]bool{"": true, "-": true, "NA": true, "N/A": true, "NULL": true, "..": true, "*": true, "X": true}

// plainDecimal says whether t is -?digits(.digits)?, its whole part either
// plain or grouped in threes by commas (1,234,567), and returns it without
// the commas. Written out rather than a regular expression: it runs on
// every cell of a history.
func plainDecimal(t string) (string, bool) {
	i := 0
	if i < len(t) && t[i] == '-' {
		i++
	}
	start, digits, group, commas := i, 0, 0, false
	for ; i < len(t) && t[i] != '.'; i++ {
		switch c := t[i]; {
		case c >= '0' && c <= '9':
			digits++
			group++
		case c == ',':
			if (!commas && (group < 1 || group > 3)) || (commas && group != 3) {
				return "", false
			}
			commas, group = true, 0
		default:
			return "", false
		}
	}
	if digits == 0 || (commas && group != 3) || (i > start && t[start] == ',') {
		return "", false
	}
	if i < len(t) { // the fraction: at least one digit, nothing else
		if i+1 == len(t) {
			return "", false
		}
		for _, c := range []byte(t[i+1:]) {
			if c < '0' || c > '9' {
				return "", false
			}
		}
	}
	if commas {
		t = strings.ReplaceAll(t, ",", "")
	}
	return t, true
}

// ParseNumber reads a number as published: a plain decimal (1234, -67193,
// 4095.25), with thousands separated by commas in threes where the
// publisher groups them (12,345.50). Blank, "-", "NA"-like cells are
// missing (ok false). Anything else - an exponent, a hexadecimal float, a
// currency sign, an accounting negative "(1,234)", a stray comma - is an
// error: a cell a spreadsheet reformatted is not read as a different number.
func ParseNumber(s string) (v float64, ok bool, err error) {
	t := strings.TrimSpace(s)
	if missingCells[strings.ToUpper(t)] {
		return 0, false, nil
	}
	t, plain := plainDecimal(t)
	if !plain {
		return 0, false, fmt.Errorf("%q is not a number: accepted a plain decimal such as 1234, -1234.56 or 1,234.56 (blank, \"-\" or \"N/A\" for none)", s)
	}
	v, perr := strconv.ParseFloat(t, 64)
	if perr != nil || v > 1e15 || v < -1e15 {
		return 0, false, fmt.Errorf("%q is out of range: accepted numbers up to 1e15 in size", s)
	}
	return v, true, nil
}

// lineGuard passes a file's text through, counting lines, refusing a line
// longer than maxLineBytes, and remembering whether the text ended with a
// line break.
type lineGuard struct {
	r    io.Reader
	line int
	run  int  // bytes since the last line break
	last byte // the last byte read
	err  error
}

func (g *lineGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			g.line++
			g.run = 0
			continue
		}
		g.run++
		if g.run > maxLineBytes {
			g.err = fmt.Errorf("a line longer than %d MiB: its line breaks were lost, or it is not a CSV file", maxLineBytes>>20)
			return 0, g.err
		}
	}
	if n > 0 {
		g.last = p[n-1]
	}
	return n, err
}

func (g *lineGuard) lineEnded() bool { return g.last == '\n' }

// crReader turns CR line ends into LF.
type crReader struct{ r io.Reader }

func (c *crReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i := range p[:n] {
		if p[i] == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}

// latin1Reader decodes ISO-8859-1 to UTF-8.
type latin1Reader struct {
	r   io.Reader
	buf []byte
	out []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	for len(l.out) == 0 {
		if cap(l.buf) == 0 {
			l.buf = make([]byte, 16<<10)
		}
		n, err := l.r.Read(l.buf[:cap(l.buf)])
		for _, b := range l.buf[:n] {
			l.out = utf8.AppendRune(l.out, rune(b))
		}
		if n == 0 && err != nil {
			return 0, err
		}
	}
	n := copy(p, l.out)
	l.out = l.out[n:]
	if len(l.out) == 0 {
		l.out = l.out[:0:0]
	}
	return n, nil
}

// Row is the current row's cells as read (as many as the header's).
func (r *Reader) Row() []string { return r.row }

// practiceCodes reads each row's practice code and holds a file to one row
// per practice: an empty code, or one seen on an earlier line, is refused
// naming both lines (again says what a repeat is; accepted, what is).
type practiceCodes map[string]int

func (seen practiceCodes) next(rd *Reader, i int, again, accepted string) (string, error) {
	c, err := rd.Code(i)
	if err != nil {
		return "", err
	}
	if c == "" {
		return "", FieldErrorf(rd.File, rd.Line(), rd.Header.Label(i), "is empty: accepted a practice code")
	}
	if l, dup := seen[c]; dup {
		return "", FieldErrorf(rd.File, rd.Line(), rd.Header.Label(i), "practice %s %s (first on line %d): accepted %s", c, again, l, accepted)
	}
	seen[c] = rd.Line()
	return c, nil
}
