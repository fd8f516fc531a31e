package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
)

// upload is a file a client sent: a scenario or an NHS Digital list-size
// file, checked by the validator files go through and kept under a name
// the server makes from its content (so the same file sent twice is kept
// once, and a link naming it still works after a restart).
type upload struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"` // scenario or population
	Name    string    `json:"name"` // the client's file name, for messages only
	Size    int64     `json:"size"`
	Created time.Time `json:"created"`
	// A scenario's name and lever values; a list-size file's practices
	// and patients.
	Scenario  *scenarioInfo `json:"scenario,omitempty"`
	Practices int           `json:"practices,omitempty"`
	Patients  int           `json:"patients,omitempty"`
	path      string
}

var (
	idRE       = regexp.MustCompile(`^[0-9a-f]{16,64}$`)
	safeNameRE = regexp.MustCompile(`[^A-Za-z0-9._ -]+`)
)

// cleanName keeps a client's file name for messages: its last element,
// without control or odd characters, at most 80 bytes. It is never a path.
func cleanName(n, fallback string) string {
	n = path.Base(strings.ReplaceAll(n, "\\", "/"))
	n = strings.TrimSpace(safeNameRE.ReplaceAllString(n, "_"))
	if len(n) > 80 {
		n = n[:80]
	}
	if n == "" || n == "." || n == "/" {
		return fallback
	}
	return n
}

// postUpload takes a file as the request body: ?kind=scenario (YAML) or
// population (CSV; without kind, a file whose first line has commas is a
// list-size file) and ?name= its file name for messages.
func (s *Server) postUpload(w http.ResponseWriter, r *http.Request) {
	body, e := readUpload(s, w, r)
	if e != nil {
		writeErr(w, e)
		return
	}
	q := r.URL.Query()
	kind := q.Get("kind")
	if kind == "" {
		first, _, _ := bytes.Cut(body, []byte("\n"))
		kind = "scenario"
		if bytes.Count(first, []byte(",")) >= 3 {
			kind = "population"
		}
	}
	ext := map[string]string{"scenario": ".yaml", "population": ".csv"}[kind]
	if ext == "" {
		writeErr(w, badField("kind", "%q is not a kind of upload: accepted scenario (a scenario's YAML) or population (an NHS Digital list-size CSV file)", kind))
		return
	}
	up := &upload{Kind: kind, Name: cleanName(q.Get("name"), "upload"+ext), Size: int64(len(body)), Created: time.Now().UTC()}
	sum := sha256.Sum256(append([]byte(kind+"\x00"), body...))
	up.ID = hex.EncodeToString(sum[:16])
	switch kind {
	case "scenario":
		if e := checkShape(body, "upload"); e != nil {
			writeErr(w, e)
			return
		}
		sc, err := scenarios.Parse(body, up.Name)
		if err != nil {
			writeErr(w, fromError(err, "upload"))
			return
		}
		capped := s.capLimits(sc)
		if _, err := sc.Model(sc.Seed); err != nil {
			writeErr(w, s.limitNote(fromError(err, "upload"), capped))
			return
		}
		info, err := s.describe(sc)
		if err != nil {
			writeErr(w, &apiError{status: 500, Error: err.Error()})
			return
		}
		up.Scenario = &info
	case "population":
		ps, err := scenarios.ReadPopulation(bytes.NewReader(body), up.Name, nil, s.serverLimits())
		if err != nil {
			writeErr(w, badField("population", "%s", err.Error()))
			return
		}
		up.Practices = len(ps)
		for _, p := range ps {
			for b := range p.List.Male {
				up.Patients += p.List.Male[b] + p.List.Female[b]
			}
		}
	}
	s.mu.Lock()
	old := s.uploads[up.ID]
	s.mu.Unlock()
	if old != nil {
		if err := sameFile(old.path, body); err == nil {
			writeJSON(w, 200, old)
			return
		}
		// Its file was lost or damaged: kept again below.
	}
	dir := filepath.Join(s.cfg.Data, uploadsDir)
	up.path = filepath.Join(dir, up.ID+ext)
	meta, err := json.MarshalIndent(up, "", "  ")
	if err == nil {
		err = runfolder.WriteFileAtomic(up.path, body)
	}
	if err == nil {
		err = runfolder.WriteFileAtomic(filepath.Join(dir, up.ID+".json"), append(meta, '\n'))
	}
	if err != nil {
		os.Remove(up.path)
		s.mu.Lock()
		delete(s.uploads, up.ID)
		s.mu.Unlock()
		writeErr(w, &apiError{status: 500, Error: fmt.Sprintf("keeping the upload: %v", err)})
		return
	}
	s.mu.Lock()
	s.uploads[up.ID] = up
	s.mu.Unlock()
	writeJSON(w, 201, up)
}

// sameFile says (nil) whether the file at path holds exactly b.
func sameFile(path string, b []byte) error {
	got, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, b) {
		return fmt.Errorf("%s differs from what was uploaded", filepath.Base(path))
	}
	return nil
}

func readUpload(s *Server, w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	return s.readLimited(w, r, "upload", s.cfg.MaxUpload)
}

func (s *Server) getUpload(w http.ResponseWriter, r *http.Request) {
	up, e := s.upload(r.PathValue("id"), "", "upload")
	if e != nil {
		writeErr(w, e)
		return
	}
	writeJSON(w, 200, up)
}

// upload finds a kept upload by id (of kind, unless empty); field names
// the request field that gave the id, for errors.
func (s *Server) upload(id, kind, field string) (*upload, *apiError) {
	if !idRE.MatchString(id) {
		return nil, badField(field, "%q is not an upload id: accepted the id POST /api/uploads answered", id)
	}
	s.mu.Lock()
	up := s.uploads[id]
	s.mu.Unlock()
	if up == nil {
		e := badField(field, "no upload %s on this server: upload the file again", id)
		e.status = http.StatusNotFound
		return nil, e
	}
	if kind != "" && up.Kind != kind {
		return nil, badField(field, "upload %s is a %s file, not a %s file", id, up.Kind, kind)
	}
	return up, nil
}

// loadUploads reads the kept uploads' descriptions.
func (s *Server) loadUploads() error {
	dir := filepath.Join(s.cfg.Data, uploadsDir)
	removeTemporaries(dir, 0)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading %s: %w", dir, err)
	}
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !idRE.MatchString(id) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		var up upload
		if json.Unmarshal(b, &up) != nil || up.ID != id {
			continue
		}
		up.path = filepath.Join(dir, id+map[string]string{"scenario": ".yaml", "population": ".csv"}[up.Kind])
		if _, err := os.Stat(up.path); err != nil {
			continue
		}
		s.uploads[id] = &up
	}
	return nil
}
