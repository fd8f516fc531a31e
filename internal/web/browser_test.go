package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/gpbudget/gpbudget/scenarios"
)

// chromium finds Debian's Chromium: absent, the test skips saying so, or
// fails under CI, whose .ci/run installs it.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; .ci/run installs it (apt-get install -y chromium)")
	}
	t.Skip("SKIPPED: chromium not found (apt-get install -y chromium); the what-if page was not checked in a browser")
	return ""
}

// browser is a page in headless Chromium, with every script error and
// console error collected.
type browser struct {
	t    *testing.T
	ctx  context.Context
	mu   sync.Mutex
	errs []string
}

func newBrowser(t *testing.T, bin string, w, h int) *browser {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(w, h))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelC := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	b := &browser{t: t, ctx: ctx}
	console := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range console {
			if err != nil {
				return
			}
			if ev.Type == "error" || ev.Type == "assert" {
				var args []string
				for _, a := range ev.Args {
					args = append(args, fmt.Sprint(a.Description, string(a.Value)))
				}
				b.fail("console." + string(ev.Type) + ": " + strings.Join(args, " "))
			}
		}
	}()
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.fail(fmt.Sprintf("script error at %s:%d: %s", d.URL, d.LineNumber+1, msg))
		}
	}()
	return b
}

func (b *browser) fail(msg string) {
	b.mu.Lock()
	b.errs = append(b.errs, msg)
	b.mu.Unlock()
}

// errors reports what the page's scripts got wrong so far.
func (b *browser) errors() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errs {
		b.t.Errorf("in the browser: %s", e)
	}
	b.errs = nil
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.errors()
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression into v.
func (b *browser) eval(expr string, v any) {
	b.t.Helper()
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		b.t.Fatalf("evaluating %s: %v (%s)", expr, err, raw)
	}
}

// waitFor polls a JavaScript condition until it holds.
func (b *browser) waitFor(what, cond string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(2*time.Minute))); err != nil {
		b.errors()
		var state string
		b.eval(`document.getElementById('state').textContent + ' | ' + document.getElementById('run-error').textContent`, &state)
		b.t.Fatalf("waiting for %s: %v (page says: %s)", what, err, state)
	}
}

// typeInto replaces a text field's value by typing, as a person does.
func (b *browser) typeInto(id, text string) {
	b.t.Helper()
	// Select what is there, and type over it. By attribute: the page's
	// ids hold dots (a--rule.retention_share).
	var ok bool
	b.eval(fmt.Sprintf(`(() => { const f = document.getElementById(%q); f.focus(); f.select(); return true })()`, id), &ok)
	b.do("typing into "+id, chromedp.SendKeys(chromedp.CSS(`[id="`+id+`"]`), text))
}

// choose picks an option of a select as a person does (the change event
// follows).
func (b *browser) choose(id, value string) {
	b.t.Helper()
	var ok bool
	b.eval(fmt.Sprintf(`(() => { const s = document.getElementById(%q); s.focus(); s.value = %q; s.dispatchEvent(new Event('change', {bubbles: true})); return s.value === %q })()`, id, value, value), &ok)
	if !ok {
		b.t.Fatalf("%s has no option %s", id, value)
	}
}

// outcome is what the page shows of the last result.
type outcome struct {
	ID    string             `json:"id"`
	Kind  string             `json:"kind"`
	MS    string             `json:"ms"`
	Bands map[string]float64 `json:"bands"` // p_over_5 by band, from the cells' values
	Text  map[string]string  `json:"text"`  // the cells as shown
	Comm  map[string]float64 `json:"comm"`
	Chart string             `json:"chart"` // the first chart's SVG
	Run   string             `json:"run"`   // the run the chart is of
	Diffs int                `json:"diffs"`
}

const readOutcome = `(() => {
  const o = document.getElementById('outcome');
  const r = {id: o.dataset.id || '', kind: o.dataset.kind || '', ms: o.dataset.ms || '', bands: {}, text: {}, comm: {}, chart: '', run: '', diffs: 0};
  for (const tr of document.querySelectorAll('#headline tbody tr')) {
    const td = tr.querySelectorAll('td')[1];
    r.bands[tr.dataset.band] = Number(td.dataset.value);
    r.text[tr.dataset.band] = td.textContent;
  }
  for (const tr of document.querySelectorAll('#commissioner tbody tr')) {
    const td = tr.querySelector('td');
    if (td && td.dataset.value !== '') r.comm[tr.dataset.key] = Number(td.dataset.value);
  }
  const f = document.querySelector('#outcome figure.chart');
  if (f) { r.chart = f.querySelector('svg') ? f.querySelector('svg').outerHTML : ''; r.run = f.dataset.run; }
  r.diffs = document.querySelectorAll('#differences tbody tr').length;
  return r;
})()`

// The page in real Chromium: it renders with no script error, runs the
// default area, shows the headline and a chart; a changed lever runs
// again and the table and chart show the new figures, the API's; a bad
// value shows the validator's message next to its field; two settings
// compared show their paired differences. With GPBUDGET_SCREENSHOT=FILE
// it saves the page as a PNG (the README's picture).
func TestPageInChromium(t *testing.T) {
	bin := chromium(t)
	_, ts := testServer(t, Config{Loopback: true})
	b := newBrowser(t, bin, 1400, 1100)
	b.do("opening the page", chromedp.Navigate(ts.URL+"/?a.s=default&reps=200&years=3&seed=1&cohort=1"))
	b.waitFor("the page to be ready", `document.body.dataset.ready === 'ok'`)
	b.errors()

	// A first run of the default area.
	b.do("pressing Run", chromedp.Click(chromedp.ID("run")))
	b.waitFor("the first result", `!!document.getElementById('outcome').dataset.id && !document.body.dataset.running`)
	var first outcome
	b.eval(readOutcome, &first)
	t.Logf("run to drawn result in the browser (default area, 200 x 3 years, cohort mode): %s ms", first.MS)
	checkShown(t, ts.URL, first)

	// Change levers, as a person does: hard budgets, half of savings kept.
	b.choose("a--rule.type", "hard")
	b.typeInto("a--rule.retention_share", "0.5")
	b.waitFor("the change to be checked", `document.getElementById('state').textContent === 'Ready.'`)
	var url string
	b.eval(`location.search`, &url)
	if !strings.Contains(url, "a.rule.type=hard") || !strings.Contains(url, "a.rule.retention_share=0.5") {
		t.Errorf("the address does not hold the settings: %s", url)
	}
	b.do("pressing Run", chromedp.Click(chromedp.ID("run")))
	b.waitFor("the second result", fmt.Sprintf(`document.getElementById('outcome').dataset.id !== %q && !document.body.dataset.running && !!document.getElementById('outcome').dataset.id`, first.ID))
	var second outcome
	b.eval(readOutcome, &second)
	checkShown(t, ts.URL, second)
	if second.Chart == first.Chart || second.Run != second.ID {
		t.Errorf("the chart did not change with the new figures (run %s, chart of %s)", second.ID, second.Run)
	}
	if second.Comm["deficit_carried_mean"] == 0 || first.Comm["deficit_carried_mean"] != 0 {
		t.Errorf("deficits carried: indicative %v, hard %v: want none under indicative budgets, some under hard", first.Comm["deficit_carried_mean"], second.Comm["deficit_carried_mean"])
	}
	if shot := os.Getenv("GPBUDGET_SCREENSHOT"); shot != "" {
		var ok bool
		b.eval(`(() => { document.activeElement.blur(); window.scrollTo(0, 0); return true })()`, &ok)
		png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// A bad value: the validator's message, next to its field.
	b.typeInto("a--rule.retention_share", "1.5")
	b.waitFor("the error next to the field", `document.getElementById('err-a--rule.retention_share').textContent !== ''`)
	var shown struct {
		Msg      string `json:"msg"`
		Invalid  string `json:"invalid"`
		Disabled bool   `json:"disabled"`
		Next     bool   `json:"next"`
	}
	b.eval(`(() => { const e = document.getElementById('err-a--rule.retention_share'); const f = document.getElementById('a--rule.retention_share');
		return {msg: e.textContent, invalid: f.getAttribute('aria-invalid') || '', disabled: document.getElementById('run').disabled,
		        next: e.closest('.field') === f.closest('.field')} })()`, &shown)
	_, err := scenarios.Parse([]byte("name: x\nrule:\n  retention_share: 1.5\n"), "x.yaml")
	var se *scenarios.Error
	if !errors.As(err, &se) || shown.Msg != se.Msg {
		t.Errorf("the field shows %q, the validator says %q", shown.Msg, err)
	}
	if shown.Invalid != "true" || !shown.Disabled || !shown.Next {
		t.Errorf("bad value: aria-invalid %q, run disabled %v, message in the field's box %v", shown.Invalid, shown.Disabled, shown.Next)
	}
	b.typeInto("a--rule.retention_share", "0.5")
	b.waitFor("the error to clear", `document.getElementById('err-a--rule.retention_share').textContent === '' && !document.getElementById('run').disabled`)

	// Two settings side by side: B keeps all savings.
	b.do("ticking compare", chromedp.Click(chromedp.ID("compare")))
	b.waitFor("setting B", `!!document.getElementById('b--rule.retention_share')`)
	b.typeInto("b--rule.retention_share", "1")
	b.waitFor("the change to be checked", `document.getElementById('state').textContent === 'Ready.'`)
	b.do("pressing Run", chromedp.Click(chromedp.ID("run")))
	b.waitFor("the comparison", `document.getElementById('outcome').dataset.kind === 'comparison' && !document.body.dataset.running`)
	var cmp outcome
	b.eval(readOutcome, &cmp)
	_, st := call(t, "GET", ts.URL+"/api/comparisons/"+cmp.ID, nil)
	diffs, _ := st["differences"].([]any)
	if st["status"] != "done" || cmp.Diffs != len(diffs) || len(diffs) == 0 {
		t.Fatalf("comparison %s: %v, %d rows shown, %d in the API", cmp.ID, st["status"], cmp.Diffs, len(diffs))
	}
	var shownDiff float64
	b.eval(`Number(document.querySelector('#differences tr[data-metric="savings_retained"] td:nth-of-type(4)').dataset.value)`, &shownDiff)
	for _, d := range diffs {
		d := d.(map[string]any)
		if d["metric"] == "savings_retained" {
			if want := d["difference"].(float64); shownDiff != want || !(want > 0) {
				t.Errorf("savings retained B - A: shown %v, API %v (want more kept when B keeps all)", shownDiff, want)
			}
		}
	}
	var sideBySide int
	b.eval(`document.querySelectorAll('.side-by-side figure.chart svg').length`, &sideBySide)
	if sideBySide != 2 {
		t.Errorf("%d charts side by side, want A's and B's", sideBySide)
	}

	// A list-size file, picked as a person picks it: its practices replace
	// the area's, and the run's size says so.
	file, err := filepath.Abs("../../scenarios/testdata/population/quinary-new.csv")
	if err != nil {
		t.Fatal(err)
	}
	b.do("uploading a list-size file", chromedp.SetUploadFiles(chromedp.CSS(`[id="a--file"]`), []string{file}))
	// Ready, and the size checked again (the side is drawn anew, its size
	// blank, until the check after the upload answers).
	b.waitFor("the list-size file to be taken", `!!document.querySelector('#side-a .population') && document.getElementById('state').textContent === 'Ready.' && document.getElementById('size-a').textContent !== ''`)
	var took struct {
		Box, Size, URL string
	}
	b.eval(`({box: document.querySelector('#side-a .population p').textContent, size: document.getElementById('size-a').textContent, url: location.search})`, &took)
	if !strings.Contains(took.Box, "quinary-new.csv") || !strings.Contains(took.URL, "a.pop=") || !strings.HasPrefix(took.Size, "3 practices") {
		t.Errorf("after the upload: %q, size %q, address %s", took.Box, took.Size, took.URL)
	}
	b.errors()
}

// toFixed1 formats x >= 0 with one decimal as JavaScript's toFixed(1)
// does: from x's exact binary value, a tie going up (Go's %.1f rounds a
// tie to even).
func toFixed1(x float64) string {
	y := new(big.Float).SetPrec(200).SetFloat64(x)
	y.Mul(y, big.NewFloat(10))
	n, _ := y.Int(nil) // truncated: x >= 0
	frac := new(big.Float).SetPrec(200).Sub(y, new(big.Float).SetPrec(200).SetInt(n))
	if frac.Cmp(big.NewFloat(0.5)) >= 0 {
		n.Add(n, big.NewInt(1))
	}
	d := n.Int64()
	return fmt.Sprintf("%d.%d", d/10, d%10)
}

// checkShown checks the page's tables against the API's headline for the
// same run.
func checkShown(t *testing.T, base string, o outcome) {
	t.Helper()
	_, st := call(t, "GET", base+"/api/runs/"+o.ID, nil)
	sum, _ := st["summary"].(map[string]any)
	if sum == nil || st["status"] != "done" {
		t.Fatalf("run %s: %v", o.ID, st["status"])
	}
	if o.Chart == "" || !strings.HasPrefix(o.Chart, "<svg") || o.Run != o.ID {
		t.Errorf("run %s: no chart drawn for it", o.ID)
	}
	for _, bnd := range sum["bands"].([]any) {
		bnd := bnd.(map[string]any)
		name := bnd["band"].(string)
		want := bnd["p_over_5"].(float64)
		if got, ok := o.Bands[name]; !ok || got != want {
			t.Errorf("run %s band %s: table %v, API %v", o.ID, name, got, want)
		}
		// The page rounds as JavaScript's toFixed does: a tie (such as
		// 37.25, exact in binary) goes up, where Go's %.1f goes to even.
		if txt := toFixed1(100*want) + "%"; !strings.HasPrefix(o.Text[name], txt) {
			t.Errorf("band %s shows %q, want %q", name, o.Text[name], txt)
		}
	}
	c := sum["commissioner"].(map[string]any)
	for _, k := range []string{"reserve_95", "reserve_99", "outlay_mean"} {
		if got, want := o.Comm[k], c[k].(float64); math.Abs(got-want) > 1e-9*math.Abs(want) {
			t.Errorf("run %s %s: table %v, API %v", o.ID, k, got, want)
		}
	}
}
