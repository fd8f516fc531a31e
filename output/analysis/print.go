package analysis

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/gpbudget/gpbudget/output/runfolder"
)

// Print writes the main tables as aligned text. With more than maxPractices
// practices, only the maxPractices most likely to overspend are listed.
func (s *Summary) Print(w io.Writer, maxPractices int) error {
	fmt.Fprintf(w, "%s: seed %d, %d replications x %d years\n", s.Scenario, s.Seed, s.Replications, s.Years)
	fmt.Fprintln(w, "Variance is budget minus spend (negative: overspend); P(over>5%) is the chance a practice overspends its budget by more than 5% in a year (the share of practice-years spending more than 105% of budget), against its budget: before any risk pool or consortium pays.")
	if s.QuantileNote != "" {
		fmt.Fprintf(w, "Percentiles: %s.\n", s.QuantileNote)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "By list-size band (per practice-year, pooled over replications and years; savings kept and deficit carried: means per practice-year, the deficit at the year's end):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "band\tpractices\tlist mean\tspend/head £\tSD\tCV\tvariance mean £\tvariance SD £\tP(over>5%)\tP(over>10%)\tP(under>5%)\tP(under>10%)\tVaR95 £\tES95 £\tVaR99 £\tES99 £\tsavings kept £\tdeficit carried £\t")
	for _, b := range s.Bands {
		st := b.Stats
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.2f\t%.2f\t%.3f\t%.0f\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t\n",
			b.Band, st.Practices, st.ListSizeMean, st.SpendPerHeadMean, st.SpendPerHeadSD, st.SpendPerHeadCV,
			st.VarianceMean, st.VarianceSD, st.ProbOver5, st.ProbOver10, st.ProbUnder5, st.ProbUnder10,
			st.VaR95, st.ES95, st.VaR99, st.ES99, st.SavingsRetainedMean, st.DeficitCarriedMean)
	}
	tw.Flush()
	fmt.Fprintln(w)
	ps := slices.Clone(s.Practices)
	title := "By practice:"
	if maxPractices > 0 && len(ps) > maxPractices {
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].ProbOver5 > ps[j].ProbOver5 })
		ps = ps[:maxPractices]
		title = fmt.Sprintf("By practice, the %d of %d most likely to overspend by more than 5%% (all in %s/by_practice.csv):", maxPractices, len(s.Practices), runfolder.SummaryDir)
	}
	fmt.Fprintln(w, title)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "practice\tband\tlist mean\tspend/head £\tCV\tvariance mean £\tvariance SD £\tP(over>5%)\tP(over>10%)\tP(under>5%)\tVaR95 £\tES95 £\tsavings kept £\tdeficit carried £\t")
	for _, p := range ps {
		st := p.Stats
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.2f\t%.3f\t%.0f\t%.0f\t%.3f\t%.3f\t%.3f\t%.0f\t%.0f\t%.0f\t%.0f\t\n",
			p.PracticeID, p.Band, st.ListSizeMean, st.SpendPerHeadMean, st.SpendPerHeadCV, st.VarianceMean, st.VarianceSD,
			st.ProbOver5, st.ProbOver10, st.ProbUnder5, st.VaR95, st.ES95, st.SavingsRetainedMean, st.DeficitCarriedMean)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%s (%s):\n", s.Label(), CommissionerNote)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "year\tbudget £\tspend £\tcommissioner paid £\tholder paid £\tsavings kept £\tdeficit carried £\toverspend mean £\toverspend P95 £\tP(area over)\treserve 95% £\treserve 99% £\t")
	for _, c := range s.CommissionerAsStated() {
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.3f\t%.0f\t%.0f\t\n",
			c.Year, c.BudgetMean, c.SpendMean, c.CommissionerPaid, c.HolderPaid, c.SavingsRetained, c.DeficitCarried,
			c.OverspendMean, c.OverspendP95, c.ProbAreaOverspend, c.Reserve95, c.Reserve99)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := s.PrintContract(w); err != nil {
		return err
	}
	if err := s.PrintLedger(w); err != nil {
		return err
	}
	return s.PrintRisk(w)
}

// The headline measures, each defined once as the what-if page states
// them (per year or over the run; before or after pooling), for summarize
// and the report alike.
const (
	// ChanceOverNote defines P(over>5%) and P(over>10%).
	ChanceOverNote = "chance that a practice overspends its budget by more than 5% or 10% in a year, by list size: against its budget, before any risk pool or consortium pays"
	// ReserveNote defines the reserve at 95% and 99%.
	ReserveNote = "reserve for the worst year: the most the commissioner paid beyond budgets in any one year of the run, enough in 95% (99%) of replications"
	// CommissionerNote says what the commissioner's table holds.
	CommissionerNote = "area totals, means across replications: each year's, then the run's (money totals over the run; deficits carried at the end of the last year); " +
		"reserve 95% (99%): enough in 95% (99%) of replications for the most paid beyond budgets in one year, that year's or, for the run, the worst year's"
	// RunRow is the name of the commissioner table's row for the whole run.
	RunRow = "run"
)

// CommissionerAsStated is the commissioner's table as printed and drawn:
// each year's row, then the run's, named RunRow, whose deficit carried is
// the last year's (a stock, read at the end, not added over the years).
func (s *Summary) CommissionerAsStated() []CommissionerStats {
	out := slices.Clone(s.Commissioner)
	last := -1
	for i, c := range out {
		if c.Year != AllBands {
			last = i
		}
	}
	for i := range out {
		if out[i].Year == AllBands {
			out[i].Year = RunRow
			if last >= 0 {
				out[i].DeficitCarried = out[last].DeficitCarried
			}
		}
	}
	return out
}

// Label is what printed output calls the commissioner: the scenario's
// commissioner_label (ICB, PCT), or "Commissioner".
func (s *Summary) Label() string {
	if s.CommissionerLabel == "" || s.CommissionerLabel == "commissioner" {
		return "Commissioner"
	}
	return s.CommissionerLabel
}

// PrintContract writes contracts' payments by year, if the run has any.
func (s *Summary) PrintContract(w io.Writer) error {
	if len(s.Contract) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Contract payments (area totals, mean per replication ± SE; shared losses are holders' own money paid to the %s; truncated spend is left out of what holders are measured on, not money):\n", s.Label())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "year\tshared savings paid £\tSE £\tshared losses received £\tSE £\tnet paid by contracts £\tSE £\tincentives paid £\tSE £\t")
	for _, c := range s.Contract {
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t\n", c.Year, c.SharedSavings, c.SharedSavingsSE,
			c.SharedLoss, c.SharedLossSE, c.ContractNet, c.ContractNetSE, c.Incentive, c.IncentiveSE)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "The %s's area overspend against the benchmarks, split (mean per replication ± SE): measured spend, on which benchmarks are set and contracts settle, against the benchmarks; and the spend truncation leaves out of it, which the %s pays providers but no benchmark covers:\n", s.Label(), s.Label())
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "year\tmeasured over benchmark £\tSE £\tP(measured over)\tspend truncated £\tSE £\tarea overspend £\t")
	for _, c := range s.Contract {
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.3f\t%.0f\t%.0f\t%.0f\t\n", c.Year, c.MeasuredOver, c.MeasuredOverSE, c.ProbMeasuredOver,
			c.Truncated, c.TruncatedSE, c.MeasuredOver+c.Truncated)
	}
	return tw.Flush()
}

// PrintLedger writes the ledger's net positions by year.
func (s *Summary) PrintLedger(w io.Writer) error {
	if s.Ledger == nil {
		return nil
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Ledger (means per replication, summed from the ledger files' entries; net = received - paid):")
	if s.LedgerRows == 0 {
		fmt.Fprintln(w, "  the ledger files hold no entries: this run's engine recorded no money movements, so these are zero.")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "year\t%s outlay £\tSE £\tP95 £\tproviders net £\tpool net £\tholders net £\t\n", strings.Replace(s.Label(), "Commissioner", "commissioner", 1))
	for _, l := range s.Ledger {
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t\n", l.Year, l.OutlayMean, l.OutlaySE, l.OutlayP95, l.ProvidersNetMean, l.PoolNetMean, l.HoldersNetMean)
	}
	return tw.Flush()
}

// PrintHeadline writes the answer in a few lines: by list-size band, the
// chance that a practice-year overspends by more than each threshold, and
// the commissioner's reserve at each level over the run.
func (s *Summary) PrintHeadline(w io.Writer) error {
	fmt.Fprintf(w, "%s%s:\n", strings.ToUpper(ChanceOverNote[:1]), ChanceOverNote[1:])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	hdr := "patients\tpractices\t"
	for _, th := range Thresholds {
		hdr += fmt.Sprintf("by >%s%%\t", thresholdName(th))
	}
	fmt.Fprintln(tw, hdr)
	for _, b := range s.Bands {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t\n", b.Band, b.Practices, pct1(b.ProbOver5), pct1(b.ProbOver10))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range s.Commissioner {
		if c.Year == AllBands {
			fmt.Fprintf(w, "%s's reserve for the worst year (the most it paid beyond budgets in any one year of the run): £%s at 95%%, £%s at 99%% of %d replications.\n",
				s.Label(), thousands(c.Reserve95), thousands(c.Reserve99), c.Replications)
		}
	}
	return nil
}

func pct1(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }

// thousands writes v rounded to pounds with thousands separators: 1,234,567.
func thousands(v float64) string {
	s := strconv.FormatFloat(math.Round(math.Abs(v)), 'f', 0, 64)
	var b strings.Builder
	if v < 0 && s != "0" {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
