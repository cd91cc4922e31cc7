package bench

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var colors = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, // pagesnap
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, // QEMU background snapshot
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, // stop-and-copy
}

// panel is one bar chart: a value per method (NaN: not measured); its
// bars take colors in order, or the methods' colors if nil.
type panel struct {
	title, ylabel string
	names         []string
	values        []float64
	colors        []color.Color
}

// drainColors: memmove (the reference), the drain's copy, its hashing.
var drainColors = []color.Color{
	color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff},
	colors[0],
	color.RGBA{R: 0x0b, G: 0x3c, B: 0x66, A: 0xff},
}

func (r *Result) panels() []panel {
	bg, st := r.QEMUBG, r.Stop
	rel := func(x float64) float64 {
		if r.Before == 0 {
			return 0
		}
		return x / r.Before
	}
	return []panel{
		{"pause", "ms (pagesnap: guest; peers: host)", []string{"pagesnap", "QEMU bg", "stop+copy"},
			[]float64{r.Pagesnap.PauseUs / 1e3, v(bg.Err == nil, float64(bg.Downtime.Microseconds())/1e3), v(st.Err == nil, float64(st.Downtime.Microseconds())/1e3)}, nil},
		{"time to a complete image", "s of guest time", []string{"pagesnap", "QEMU bg"},
			[]float64{r.Pagesnap.Total.Seconds(), v(bg.Err == nil, bg.GuestTotal.Seconds())}, nil},
		{"workload during / before", "ratio", []string{"pagesnap", "QEMU bg"},
			[]float64{rel(r.Pagesnap.During), v(bg.Err == nil, rel(bg.During))}, nil},
		{"workload after / before", "ratio", []string{"pagesnap", "QEMU bg"},
			[]float64{rel(r.Pagesnap.After), v(bg.Err == nil, rel(bg.After))}, nil},
		r.drainPanel(),
	}
}

// drainPanel is where pagesnap's drain time goes: per page, in bare
// 4 KiB copies, its copy (per page drained) and its hashing (per page
// hashed) beside memmove's one copy.
func (r *Result) drainPanel() panel {
	p := r.Pagesnap
	perPage := func(d time.Duration, pages uint64) float64 {
		if d <= 0 || pages == 0 || r.CopyNs <= 0 {
			return math.NaN()
		}
		return float64(d.Nanoseconds()) / float64(pages) / r.CopyNs
	}
	return panel{"pagesnap drain: time per page", "bare 4 KiB copies (guest)", []string{"memmove", "drain copy", "hashing"},
		[]float64{v(r.CopyNs > 0, 1), perPage(p.DrainCopy, p.Drained), perPage(p.DrainHash, p.Hashed)}, drainColors}
}

// v is x, or NaN (not measured) unless ok.
func v(ok bool, x float64) float64 {
	if !ok {
		return math.NaN()
	}
	return x
}

// Plot writes the result as a PNG: one bar chart per figure (pause, time
// to a complete image, workload throughput during and after), one bar
// per method, its value under its name, and where pagesnap's drain time
// goes (per page, in bare copies: memmove, the drain's copy, hashing); a
// method that failed reads "failed" (the table says why).
func (r *Result) Plot(path string) error {
	ps := r.panels()
	plots := make([][]*plot.Plot, 1)
	for _, pn := range ps {
		p := plot.New()
		p.Title.Text = pn.title
		p.Y.Label.Text = pn.ylabel
		p.Y.Min = 0
		w := vg.Points(40)
		for i, val := range pn.values {
			if math.IsNaN(val) {
				val = 0
			}
			b, err := plotter.NewBarChart(plotter.Values{val}, w)
			if err != nil {
				return fmt.Errorf("bench: plot: %w", err)
			}
			b.Color = colors[i]
			if pn.colors != nil {
				b.Color = pn.colors[i]
			}
			b.LineStyle.Width = 0
			b.XMin = float64(i)
			p.Add(b)
		}
		// Each bar's value under its name: bars of very different heights
		// (a pause of 1 ms next to one of seconds) stay readable.
		names := make([]string, len(pn.names))
		for i, n := range pn.names {
			names[i] = fmt.Sprintf("%s\n%.3g", n, pn.values[i])
			if math.IsNaN(pn.values[i]) {
				names[i] = n + "\nfailed"
			}
		}
		p.NominalX(names...)
		top := 0.0
		for _, v := range pn.values {
			if !math.IsNaN(v) {
				top = max(top, v)
			}
		}
		if top == 0 {
			top = 1
		}
		p.Y.Max = 1.15 * top
		plots[0] = append(plots[0], p)
	}
	const width, height = 20 * vg.Inch, 4.5 * vg.Inch
	img := vgimg.New(width, height)
	dc := draw.New(img)
	title := vg.Points(14)
	top := draw.Canvas{Canvas: dc, Rectangle: dc.Rectangle}
	top.Min.Y = top.Max.Y - 2.5*title
	font := plot.New().Title.TextStyle
	font.Font.Size = vg.Points(10)
	font.XAlign = draw.XLeft
	top.FillText(font, vg.Point{X: top.Min.X + vg.Points(8), Y: top.Min.Y + vg.Points(4)}, r.Title())
	body := draw.Canvas{Canvas: dc, Rectangle: dc.Rectangle}
	body.Max.Y -= 2.5 * title
	t := draw.Tiles{Rows: 1, Cols: len(ps), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 2, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(plots, t, body)
	for i, p := range plots[0] {
		p.Draw(canvases[0][i])
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: plot: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("bench: plot: %w", err)
	}
	return f.Close()
}
