// Command englandgen writes the england package's embedded table of
// England's practices (internal/england/practices.csv.gz) from NHS England's
// need-weighted populations and NHS Digital's payments files (Open
// Government Licence v3.0):
//
//	go run ./internal/englandgen -data DIR -out internal/england/practices.csv.gz
//
// DIR holds weighted-populations/2022_2023.csv and payments/payments_*.csv
// (as published; see internal/england/README.md). One row per practice: code, name,
// registered patients, PCN, place (sub-ICB location), ICB and region codes
// and names, need index per component (weighted population over the file's
// population base, so 1 is England's average; empty where the file leaves
// the component blank), and whether the latest
// payments file that lists the practice calls it dispensing (empty where
// none does). The output is deterministic: the same inputs give the same
// bytes.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Header is the table's header (england.Columns reads it).
var header = []string{"code", "name", "patients", "pcn", "pcn_name", "place", "place_name", "icb", "icb_name", "region", "region_name",
	"need_ga", "need_cs", "need_mh", "need_mat", "need_prescr", "dispensing"}

// components are the need-weighted columns, in the table's order.
var components = []string{"G&A WP", "CS WP", "MH WP", "Mat WP", "Prescr WP"}

func main() {
	data := flag.String("data", "", "folder holding weighted-populations/ and payments/")
	out := flag.String("out", "practices.csv.gz", "output file")
	flag.Parse()
	if err := run(*data, *out); err != nil {
		fmt.Fprintln(os.Stderr, "englandgen:", err)
		os.Exit(1)
	}
}

func run(data, out string) error {
	if data == "" {
		return errors.New("-data is empty: name the folder holding weighted-populations/ and payments/")
	}
	disp, err := dispensing(filepath.Join(data, "payments"))
	if err != nil {
		return err
	}
	wf := filepath.Join(data, "weighted-populations", "2022_2023.csv")
	rows, err := readCSV(wf)
	if err != nil {
		return err
	}
	col, err := columns(wf, rows[0], append([]string{"Practice_Code", "GP_Practice_Name", "PCN_Code", "PCN_Name", "LOC22", "LOC22name",
		"ICS22", "ICS22name", "R22", "Region22", "Patients", "pop 2022/23"}, components...))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(header)
	for i, r := range rows[1:] {
		f := func(c string) string { return strings.TrimSpace(r[col[c]]) }
		n, err := strconv.ParseFloat(f("Patients"), 64)
		if err != nil || n < 1 {
			return fmt.Errorf("%s line %d: Patients %q: accepted a positive number", wf, i+2, f("Patients"))
		}
		base, err := strconv.ParseFloat(f("pop 2022/23"), 64)
		if err != nil || base <= 0 {
			return fmt.Errorf("%s line %d: pop 2022/23 %q: accepted a positive number", wf, i+2, f("pop 2022/23"))
		}
		rec := []string{f("Practice_Code"), f("GP_Practice_Name"), strconv.Itoa(int(n)), f("PCN_Code"), f("PCN_Name"), f("LOC22"), f("LOC22name"),
			f("ICS22"), f("ICS22name"), f("R22"), f("Region22")}
		for _, c := range components {
			if f(c) == "" { // a component the file leaves blank for this practice
				rec = append(rec, "")
				continue
			}
			w, err := strconv.ParseFloat(f(c), 64)
			if err != nil || w < 0 {
				return fmt.Errorf("%s line %d: %s %q: accepted a number 0 or more", wf, i+2, c, f(c))
			}
			rec = append(rec, strconv.FormatFloat(w/base, 'f', 5, 64))
		}
		rec = append(rec, disp[f("Practice_Code")])
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(buf.Bytes())
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(out, gz.Bytes(), 0o644)
}

// dispensing is each practice's "Dispensing Practice" (1 yes, 0 no) in the
// latest payments file that lists it.
func dispensing(dir string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "payments_*.csv"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("%s: no payments_*.csv files", dir)
	}
	sort.Strings(files) // payments_14-15 ... payments_18-19: oldest first, so later years win
	out := map[string]string{}
	for _, fn := range files {
		rows, err := readCSV(fn)
		if err != nil {
			return nil, err
		}
		col, err := columns(fn, rows[0], []string{"Practice Code", "Dispensing Practice"})
		if err != nil {
			return nil, err
		}
		for _, r := range rows[1:] {
			code := strings.TrimSpace(r[col["Practice Code"]])
			switch strings.ToLower(strings.TrimSpace(r[col["Dispensing Practice"]])) {
			case "yes":
				out[code] = "1"
			case "no":
				out[code] = "0"
			}
		}
	}
	return out, nil
}

func readCSV(fn string) ([][]string, error) {
	b, err := os.ReadFile(fn)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	var rows [][]string
	for {
		r, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
		rows = append(rows, r)
	}
	if len(rows) < 2 {
		return nil, fmt.Errorf("%s: no rows", fn)
	}
	return rows, nil
}

// columns finds each wanted column (names compared trimmed, case-insensitive).
func columns(fn string, head []string, want []string) (map[string]int, error) {
	col := map[string]int{}
	for _, w := range want {
		for i, h := range head {
			if strings.EqualFold(strings.TrimSpace(h), w) {
				col[w] = i
				break
			}
		}
		if _, ok := col[w]; !ok {
			return nil, fmt.Errorf("%s: no column %q", fn, w)
		}
	}
	return col, nil
}
