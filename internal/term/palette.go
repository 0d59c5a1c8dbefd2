package term

import "github.com/fatih/color"

// Palette is the one set of colours every renderer of smtpx uses, so that a
// 4xx is the same yellow in a transcript, a probe report, the sink's log and
// an error line. Built off, every colour prints its text unchanged.
type Palette struct {
	on bool
	// Faint is for info lines (=== ...); Fail for failures and the error
	// prefix; Bold for headings; Good for a heading that reports success.
	Faint, Fail, Bold, Good *color.Color
	// OK, Inter, Temp and Perm are the reply classes 2xx to 5xx (and a
	// check's pass, info, warn and fail).
	OK, Inter, Temp, Perm *color.Color
	// ClassBold holds the class colours in bold (index 2 to 5), for a code
	// shown as a heading.
	ClassBold [6]*color.Color
}

// NewPalette returns the palette, coloured or not.
func NewPalette(on bool) *Palette {
	p := &Palette{on: on,
		Faint: color.New(color.Faint),
		Fail:  color.New(color.FgRed, color.Bold),
		Bold:  color.New(color.Bold),
		Good:  color.New(color.FgGreen, color.Bold),
		OK:    color.New(color.FgGreen),
		Inter: color.New(color.FgCyan),
		Temp:  color.New(color.FgYellow),
		Perm:  color.New(color.FgRed),
	}
	p.ClassBold = [6]*color.Color{0: p.Bold, 1: p.Bold,
		2: color.New(color.FgGreen, color.Bold), 3: color.New(color.FgCyan, color.Bold),
		4: color.New(color.FgYellow, color.Bold), 5: color.New(color.FgRed, color.Bold)}
	for _, c := range []*color.Color{p.Faint, p.Fail, p.Bold, p.Good, p.OK, p.Inter, p.Temp, p.Perm,
		p.ClassBold[2], p.ClassBold[3], p.ClassBold[4], p.ClassBold[5]} {
		if on {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
	}
	return p
}

// On reports whether the palette colours.
func (p *Palette) On() bool { return p.on }

// Class returns the colour of a reply code (250) or a class digit (2).
func (p *Palette) Class(code int) *color.Color {
	if code >= 10 {
		code /= 100
	}
	switch code {
	case 2:
		return p.OK
	case 3:
		return p.Inter
	case 4:
		return p.Temp
	}
	return p.Perm
}

// Heading returns the bold colour of a reply class (2 to 5), or plain bold
// for anything else.
func (p *Palette) Heading(class int) *color.Color {
	if class >= 2 && class <= 5 {
		return p.ClassBold[class]
	}
	return p.Bold
}
