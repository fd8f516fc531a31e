package web

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/gpbudget/gpbudget/internal/england"
	"github.com/gpbudget/gpbudget/scenarios"
)

// The page as a person uses it, in real Chromium: help opens on click and
// on keyboard focus; "70%" is taken; a field changed while a run is under
// way marks the result out of date and keeps its id out of the address; a
// link whose settings are not its result's opens with the result's own;
// no width from a tablet's to a wide screen scrolls the page sideways; and
// axe-core finds no serious or critical fault.
func TestPageForAPerson(t *testing.T) {
	bin := chromium(t)
	axe, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	_, ts := testServer(t, Config{Loopback: true})
	b := newBrowser(t, bin, 1280, 900)
	b.do("opening the page", chromedp.Navigate(ts.URL+"/?a.s=default&reps=200&years=3&seed=1&cohort=1"))
	b.waitFor("the page to be ready", `document.body.dataset.ready === 'ok'`)

	// Help on click and on focus.
	var help struct{ Click, Again, Focus bool }
	b.eval(`(() => {
		const btn = document.querySelector('[data-path="rule.retention_share"] button.about');
		const tip = document.getElementById(btn.getAttribute('aria-controls'));
		btn.click(); const click = !tip.hidden; btn.click(); const again = !tip.hidden;
		return {click, again} })()`, &help)
	// A page in a window that has no focus gets no focus events: emulate
	// one that has, as a person's has.
	b.do("focusing the window", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return err
	}))
	b.do("moving to a help mark", chromedp.Focus(chromedp.CSS(`[data-path="rule.participation"] button.about`)))
	b.eval(`(() => { const o = document.querySelector('[data-path="rule.participation"] button.about'); return !document.getElementById(o.getAttribute('aria-controls')).hidden })()`, &help.Focus)
	if !help.Click || help.Again || !help.Focus {
		t.Errorf("help: opens on click %v, closes on a second %v, opens on focus %v", help.Click, !help.Again, help.Focus)
	}

	// A percentage, as a person writes it.
	b.typeInto("a--rule.retention_share", "50%")
	b.waitFor("50% to be checked", `document.getElementById('state').textContent === 'Ready.'`)
	var url string
	b.eval(`decodeURIComponent(location.search)`, &url)
	if !strings.Contains(url, "a.rule.retention_share=0.5") {
		t.Errorf("50%% in the address: %s", url)
	}

	// Changed while it runs: the result comes out of date.
	b.do("pressing Run", chromedp.Click(chromedp.ID("run")))
	b.typeInto("a--rule.participation", "0.5")
	b.waitFor("the result", `!!document.getElementById('outcome').dataset.id && !document.body.dataset.running`)
	var mid struct {
		Stale bool   `json:"stale"`
		Note  string `json:"note"`
		URL   string `json:"url"`
	}
	b.eval(`({stale: document.getElementById('outcome').classList.contains('stale'), note: (document.getElementById('stale-note') || {}).textContent || '', url: decodeURIComponent(location.search)})`, &mid)
	if !mid.Stale || !strings.Contains(mid.Note, "Out of date") || strings.Contains(mid.URL, "result=") || !strings.Contains(mid.URL, "a.rule.participation=0.5") {
		t.Errorf("a field changed mid-run: stale %v, note %q, address %s", mid.Stale, mid.Note, mid.URL)
	}
	var stale string
	b.eval(`document.getElementById('outcome').dataset.id`, &stale)

	// Run again: current, and the address holds its id with its settings.
	b.waitFor("the change to be checked", `document.getElementById('state').textContent === 'Ready.'`)
	b.do("pressing Run", chromedp.Click(chromedp.ID("run")))
	b.waitFor("the second result", fmt.Sprintf(`document.getElementById('outcome').dataset.id !== %q && !document.body.dataset.running`, stale))
	var cur struct {
		ID    string `json:"id"`
		Stale bool   `json:"stale"`
		URL   string `json:"url"`
	}
	b.eval(`({id: document.getElementById('outcome').dataset.id, stale: document.getElementById('outcome').classList.contains('stale'), url: decodeURIComponent(location.search)})`, &cur)
	if cur.Stale || !strings.Contains(cur.URL, "result=run:"+cur.ID) {
		t.Errorf("a current result: stale %v, address %s", cur.Stale, cur.URL)
	}

	// A link that pairs another scenario with that result opens with the
	// result's own settings.
	b.do("opening a mismatched link", chromedp.Navigate(ts.URL+"/?a.s=conservative-consortia-2010&reps=50&years=1&seed=3&cohort=1&result=run:"+cur.ID))
	b.waitFor("the page to be ready", `!!document.body.dataset.ready && document.getElementById('outcome').dataset.id === `+fmt.Sprintf("%q", cur.ID))
	var opened struct {
		Scenario string `json:"scenario"`
		Part     string `json:"part"`
		Stale    bool   `json:"stale"`
		URL      string `json:"url"`
	}
	b.eval(`({scenario: document.getElementById('a--scenario').value, part: document.getElementById('a--rule.participation').value,
		stale: document.getElementById('outcome').classList.contains('stale'), url: decodeURIComponent(location.search)})`, &opened)
	if opened.Scenario != "default" || opened.Part != "0.5" || opened.Stale || !strings.Contains(opened.URL, "reps=200") {
		t.Errorf("a link whose settings are not its result's: form %+v", opened)
	}

	// Compare, then every width: nothing wider than the window.
	b.do("ticking compare", chromedp.Click(chromedp.ID("compare")))
	b.waitFor("setting B", `!!document.getElementById('b--rule.retention_share') && document.getElementById('state').textContent === 'Ready.'`)
	b.typeInto("b--rule.retention_share", "100%")
	b.waitFor("the change to be checked", `document.getElementById('state').textContent === 'Ready.'`)
	b.do("pressing Run", chromedp.Click(chromedp.ID("run")))
	b.waitFor("the comparison", `document.getElementById('outcome').dataset.kind === 'comparison' && !document.body.dataset.running`)
	for _, w := range []int{400, 1280, 1920} {
		b.do(fmt.Sprintf("resizing to %d px", w), chromedp.EmulateViewport(int64(w), 900))
		var over struct {
			Scroll int    `json:"scroll"`
			Inner  int    `json:"inner"`
			Widest string `json:"widest"`
		}
		b.eval(`(() => { const d = document.documentElement; let widest = '';
			for (const e of document.querySelectorAll('body *')) { const r = e.getBoundingClientRect(); if (r.right > innerWidth + 1 && !e.closest('.scroll')) { widest = e.tagName + '#' + e.id + '.' + e.className; break } }
			return {scroll: d.scrollWidth, inner: innerWidth, widest} })()`, &over)
		if over.Scroll > over.Inner {
			t.Errorf("at %d px the page is %d px wide (first too wide: %s)", w, over.Scroll, over.Widest)
		}
	}
	b.do("resizing back", chromedp.EmulateViewport(1280, 900))

	// The accessibility audit, on the page with a comparison shown.
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](string(axe)+";true")); err != nil {
		t.Fatalf("loading axe-core: %v", err)
	}
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]byte](`axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe.run: %v", err)
	}
	if s := string(raw); s != "[]" {
		t.Errorf("axe-core: serious or critical violations: %s", s)
	}
	b.errors()
}

// Three of a finance lead's tasks, clicked through: whether a risk pool
// cuts practices' overspends (after the pool, B with a 10% pool has fewer
// practices finding more than 5% themselves than A without; before it,
// the same); the reserve under hard budgets beside indicative ones; and
// how often a neighbourhood contract pays for luck (the page's figures are
// the API's risk curve's).
func TestFinanceLeadTasks(t *testing.T) {
	bin := chromium(t)
	_, ts := testServer(t, Config{Loopback: true})
	b := newBrowser(t, bin, 1280, 900)
	b.do("opening the page", chromedp.Navigate(ts.URL+"/?a.s=default&a.rule.type=hard&reps=40&years=2&seed=2&cohort=1"))
	b.waitFor("the page to be ready", `document.body.dataset.ready === 'ok'`)
	b.do("ticking compare", chromedp.Click(chromedp.ID("compare")))
	b.waitFor("setting B", `!!document.getElementById('b--rule.pool_share') && document.getElementById('state').textContent === 'Ready.'`)
	b.typeInto("b--rule.pool_share", "10%")
	b.waitFor("the change to be checked", `document.getElementById('state').textContent === 'Ready.'`)
	b.do("pressing Run", chromedp.Click(chromedp.ID("run")))
	b.waitFor("the comparison", `document.getElementById('outcome').dataset.kind === 'comparison' && !document.body.dataset.running`)
	var pool struct {
		A, B, D, BeforeA, BeforeB float64
	}
	b.eval(`(() => { const r = document.querySelector('#after-pool tr[data-band="all"]').querySelectorAll('td');
		const h = document.querySelector('#headline tr[data-band="all"]').querySelectorAll('td');
		return {A: Number(r[0].dataset.value), B: Number(r[1].dataset.value), D: Number(r[2].dataset.value), BeforeA: Number(h[0].dataset.value), BeforeB: Number(h[1].dataset.value)} })()`, &pool)
	if !(pool.B < pool.A) || pool.BeforeA != pool.BeforeB {
		t.Errorf("a 10%% pool: after it A %v, B %v (want B lower); before it A %v, B %v (want equal)", pool.A, pool.B, pool.BeforeA, pool.BeforeB)
	}
	if math.Abs(pool.D-(pool.B-pool.A)) > 1e-12 {
		t.Errorf("a 10%% pool: B - A after it shown as %v, want %v", pool.D, pool.B-pool.A)
	}

	// The reserve under indicative (A) and hard (B) budgets.
	b.choose("a--rule.type", "indicative")
	b.choose("b--rule.type", "hard")
	b.waitFor("the change to be checked", `document.getElementById('state').textContent === 'Ready.'`)
	b.do("pressing Run", chromedp.Click(chromedp.ID("run")))
	b.waitFor("the comparison", `document.getElementById('outcome').dataset.kind === 'comparison' && !document.body.dataset.running && !document.getElementById('outcome').classList.contains('stale')`)
	var reserve struct{ A, B float64 }
	b.eval(`(() => { const r = document.querySelector('#commissioner tr[data-key="reserve_p95"]').querySelectorAll('td'); return {A: Number(r[0].dataset.value), B: Number(r[1].dataset.value)} })()`, &reserve)
	if !(reserve.A > 0) || !(reserve.B < reserve.A) {
		t.Errorf("reserve at 95%%: indicative %v, hard %v: want less under hard budgets, whose holders carry overspends", reserve.A, reserve.B)
	}

	// Luck: a neighbourhood contract.
	b.do("unticking compare", chromedp.Click(chromedp.ID("compare")))
	b.choose("a--scenario", "neighbourhood-shared-savings-2026")
	b.waitFor("the scenario to be checked", `document.getElementById('state').textContent === 'Ready.'`)
	b.typeInto("run--reps", "20")
	b.waitFor("the change to be checked", `document.getElementById('state').textContent === 'Ready.'`)
	b.do("pressing Run", chromedp.Click(chromedp.ID("run")))
	b.waitFor("the result", `document.getElementById('outcome').dataset.kind === 'run' && !document.body.dataset.running && !!document.getElementById('luck-run')`)
	b.do("asking about luck", chromedp.Click(chromedp.ID("luck-run")))
	b.waitFor("the luck figures", `!!document.getElementById('luck-table')`)
	var luck struct {
		ID    string             `json:"id"`
		Shown map[string]float64 `json:"shown"`
	}
	b.eval(`(() => { const t = document.getElementById('luck-table'); const shown = {};
		for (const tr of t.querySelectorAll('tr[data-key]')) { const v = tr.querySelector('td').dataset.value; if (v !== '') shown[tr.dataset.key] = Number(v) }
		return {id: t.dataset.curve, shown} })()`, &luck)
	_, st := call(t, "GET", ts.URL+"/api/risk-curves/"+luck.ID, nil)
	curve, _ := st["curve"].([]any)
	if len(curve) != 1 {
		t.Fatalf("risk curve %s: %v", luck.ID, st)
	}
	row := curve[0].(map[string]any)
	if size := row["holder_size"].(float64); size < 40000 || size > 60000 {
		t.Errorf("the luck panel's holders: %v people, want the scenario's neighbourhoods of about 50,000", size)
	}
	for _, k := range []string{"false_reward", "msr_for_5pct_false_reward", "power_2pct"} {
		if want, _ := row[k].(float64); luck.Shown[k] != want {
			t.Errorf("luck panel %s: shown %v, API %v", k, luck.Shown[k], want)
		}
	}
	b.errors()
}

// A finance lead picks their ICB by typing part of its name, takes the
// page's suggestion, and runs the neighbourhood contract on its real
// PCNs: the run has the ICB's practices (the table's), and the luck panel
// shows the ICB's real PCNs beside holders of their mean size, the API's
// figures.
func TestFinanceLeadPicksTheirICB(t *testing.T) {
	bin := chromium(t)
	_, ts := testServer(t, Config{Loopback: true})
	b := newBrowser(t, bin, 1280, 900)
	b.do("opening the page", chromedp.Navigate(ts.URL+"/?a.s=neighbourhood-shared-savings-england-2026&reps=4&years=1&seed=1&cohort=1"))
	b.waitFor("the page to be ready", `document.body.dataset.ready === 'ok'`)
	b.typeInto("a--area", "shrop")
	b.waitFor("the suggestions", `[...document.querySelectorAll('#areas-a option')].some(o => o.value.includes('Shropshire'))`)
	var pick string
	b.eval(`[...document.querySelectorAll('#areas-a option')].find(o => o.value.includes('Shropshire')).value`, &pick)
	if !strings.HasSuffix(pick, "(QOC)") {
		t.Fatalf("the suggestion for 'shrop' is %q, want NHS Shropshire, Telford and Wrekin ICB (QOC)", pick)
	}
	// Taking the suggestion: the field then holds it, and leaving the
	// field commits it.
	b.typeInto("a--area", pick)
	b.do("leaving the field", chromedp.SendKeys(chromedp.CSS(`[id="a--area"]`), kb.Tab))
	b.waitFor("the area to be checked", `document.getElementById('state').textContent === 'Ready.' && document.getElementById('size-a').textContent.includes('QOC')`)
	tab, _ := england.Load()
	icb, _ := tab.Lookup("QOC")
	practices := 0
	for _, p := range tab.Select(icb) {
		if p.Patients >= scenarios.EnglandMinList {
			practices++
		}
	}
	b.do("pressing Run", chromedp.Click(chromedp.ID("run")))
	b.waitFor("the result", `document.getElementById('outcome').dataset.kind === 'run' && !document.body.dataset.running && !!document.getElementById('luck-run')`)
	var got outcome
	b.eval(readOutcome, &got)
	_, st := call(t, "GET", ts.URL+"/api/runs/"+got.ID, nil)
	if n, _ := st["practices"].(float64); int(n) != practices || !strings.Contains(st["scenario"].(string), "Shropshire") {
		t.Errorf("the run: %v practices, named %q; want QOC's %d", st["practices"], st["scenario"], practices)
	}
	if !strings.Contains(location(b), "a.area=QOC") {
		t.Errorf("the address %s does not keep the area", location(b))
	}
	b.do("asking about luck", chromedp.Click(chromedp.ID("luck-run")))
	b.waitFor("the luck figures", `!!document.getElementById('luck-table')`)
	var luck struct {
		ID   string    `json:"id"`
		Head []string  `json:"head"`
		Real []float64 `json:"real"`
	}
	b.eval(`(() => { const t = document.getElementById('luck-table');
		const i = [...t.querySelectorAll('thead th')].findIndex(th => th.dataset.level === 'pcn');
		return {id: t.dataset.curve, head: [...t.querySelectorAll('thead th')].map(th => th.textContent),
			real: i < 0 ? [] : [...t.querySelectorAll('tbody tr')].map(tr => Number(tr.querySelectorAll('td')[i].dataset.value))} })()`, &luck)
	_, cv := call(t, "GET", ts.URL+"/api/risk-curves/"+luck.ID, nil)
	var real map[string]any
	for _, r := range cv["curve"].([]any) {
		if m := r.(map[string]any); m["level"] == "pcn" {
			real = m
		}
	}
	if real == nil || len(luck.Real) != 4 {
		t.Fatalf("no column of the ICB's real PCNs: %v; curve %v", luck.Head, cv["curve"])
	}
	if n := real["holders"].(float64); int(n) != len(tab.Areas(england.PCN, icb)) {
		t.Errorf("%v real PCNs, want QOC's %d", n, len(tab.Areas(england.PCN, icb)))
	}
	for i, k := range []string{"false_reward", "msr_for_5pct_false_reward", "scenario_msr", "power_2pct"} {
		if want, _ := real[k].(float64); luck.Real[i] != want {
			t.Errorf("luck panel, real PCNs, %s: shown %v, API %v", k, luck.Real[i], want)
		}
	}
	b.errors()
}

func location(b *browser) string {
	var s string
	b.eval(`location.search`, &s)
	return s
}
