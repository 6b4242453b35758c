//! Simple 2D drawings of the classic control scenes, in the spirit of
//! Gymnasium's `rgb_array` renders, the pictures Gymnasium's own
//! environments render, and an animated GIF of either.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// Palette indices.
const WHITE: u8 = 0;
const BLACK: u8 = 1;
const POLE: u8 = 2;
const CART: u8 = 3;
const TRACK: u8 = 4;
const FLAG: u8 = 5;
const LINK: u8 = 6;
const JOINT: u8 = 7;
const PALETTE: [u8; 24] = [
    255, 255, 255, // white
    0, 0, 0, // black
    202, 152, 101, // pole (Gymnasium's tan)
    60, 60, 60, // cart
    130, 130, 130, // track
    204, 204, 0, // flag
    0, 102, 204, // acrobot links
    204, 51, 51, // joints, pendulum rod
];

/// One indexed-colour frame: indices into the drawings' palette, or into
/// its own (`palette`, RGB triples) for a rendered picture.
pub struct Frame {
    pub width: u16,
    pub height: u16,
    pub pixels: Vec<u8>,
    pub palette: Option<Vec<u8>>,
}

/// The longer side of a rendered picture in a GIF: Gymnasium's MuJoCo
/// renders are 480 × 480, which halved keeps a 1000-step Hopper episode
/// at a few megabytes.
const MAX_SIDE: usize = 240;

impl Frame {
    fn new(width: u16, height: u16) -> Self {
        Self { width, height, pixels: vec![WHITE; usize::from(width) * usize::from(height)], palette: None }
    }

    /// A rendered RGB picture, shrunk by a whole factor (each pixel the mean
    /// of a square) until its longer side is at most 240 pixels, and
    /// quantised to its own palette of up to 256 colours (NeuQuant).
    pub fn from_rgb(image: &natgrad_envs::RgbImage) -> Result<Self> {
        let factor = image.width.max(image.height).div_ceil(MAX_SIDE).max(1);
        let (width, height) = (image.width / factor, image.height / factor);
        if width == 0 || height == 0 || image.pixels.len() != image.width * image.height * 3 {
            bail!("a rendered picture of {} × {} pixels cannot be drawn", image.width, image.height);
        }
        let mut rgb = Vec::with_capacity(width * height * 3);
        for y in 0..height {
            for x in 0..width {
                for c in 0..3 {
                    let mut sum = 0usize;
                    for dy in 0..factor {
                        for dx in 0..factor {
                            sum +=
                                usize::from(image.pixels[((y * factor + dy) * image.width + x * factor + dx) * 3 + c]);
                        }
                    }
                    rgb.push((sum / (factor * factor)) as u8);
                }
            }
        }
        let (w, h) = (u16::try_from(width)?, u16::try_from(height)?);
        let quantised = gif::Frame::from_rgb_speed(w, h, &rgb, 10);
        Ok(Self { width: w, height: h, pixels: quantised.buffer.into_owned(), palette: quantised.palette })
    }

    fn put(&mut self, x: f64, y: f64, color: u8) {
        let (x, y) = (x.round(), y.round());
        if x >= 0.0 && y >= 0.0 && x < f64::from(self.width) && y < f64::from(self.height) {
            self.pixels[y as usize * usize::from(self.width) + x as usize] = color;
        }
    }

    fn disc(&mut self, cx: f64, cy: f64, r: f64, color: u8) {
        let r2 = r * r;
        let mut y = -r.ceil();
        while y <= r.ceil() {
            let mut x = -r.ceil();
            while x <= r.ceil() {
                if x * x + y * y <= r2 {
                    self.put(cx + x, cy + y, color);
                }
                x += 1.0;
            }
            y += 1.0;
        }
    }

    /// A line of the given thickness, as overlapping discs.
    fn line(&mut self, (x0, y0): (f64, f64), (x1, y1): (f64, f64), thickness: f64, color: u8) {
        let steps = ((x1 - x0).hypot(y1 - y0)).ceil().max(1.0) as usize;
        for i in 0..=steps {
            let t = i as f64 / steps as f64;
            self.disc(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, thickness / 2.0, color);
        }
    }

    fn rect(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, color: u8) {
        let mut y = y0.round();
        while y <= y1.round() {
            let mut x = x0.round();
            while x <= x1.round() {
                self.put(x, y, color);
                x += 1.0;
            }
            y += 1.0;
        }
    }
}

/// Draws the scene of `env_id` in the physical state `state`.
/// The ids [`frame`] draws.
pub const DRAWN: [&str; 5] = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"];

pub fn frame(env_id: &str, state: &[f64]) -> Result<Frame> {
    Ok(match env_id {
        "CartPole-v1" => cartpole(state),
        "Acrobot-v1" => acrobot(state),
        "MountainCar-v0" | "MountainCarContinuous-v0" => mountain_car(state),
        "Pendulum-v1" => pendulum(state),
        other => bail!("no drawing for {other}"),
    })
}

fn cartpole(s: &[f64]) -> Frame {
    let mut f = Frame::new(300, 200);
    let scale = 300.0 / 4.8;
    let track_y = 150.0;
    f.rect(0.0, track_y, 299.0, track_y, TRACK);
    let cx = s[0] * scale + 150.0;
    f.rect(cx - 12.5, track_y - 15.0, cx + 12.5, track_y, CART);
    let (px, py) = (cx, track_y - 15.0);
    let length = scale * 1.0;
    f.line((px, py), (px + length * s[2].sin(), py - length * s[2].cos()), 5.0, POLE);
    f.disc(px, py, 2.5, JOINT);
    f
}

fn acrobot(s: &[f64]) -> Frame {
    let mut f = Frame::new(250, 250);
    let (cx, cy, scale) = (125.0, 125.0, 55.0);
    f.rect(0.0, cy - scale, 249.0, cy - scale, BLACK); // the height to reach
    let p1 = (cx + scale * s[0].sin(), cy + scale * s[0].cos());
    let p2 = (p1.0 + scale * (s[0] + s[1]).sin(), p1.1 + scale * (s[0] + s[1]).cos());
    f.line((cx, cy), p1, 6.0, LINK);
    f.line(p1, p2, 6.0, LINK);
    f.disc(cx, cy, 4.0, JOINT);
    f.disc(p1.0, p1.1, 4.0, JOINT);
    f
}

fn mountain_car(s: &[f64]) -> Frame {
    let mut f = Frame::new(300, 200);
    let (min, max) = (-1.2, 0.6);
    let scale = 300.0 / (max - min);
    let height = |x: f64| (3.0 * x).sin() * 0.45 + 0.55;
    let to_screen = |x: f64| ((x - min) * scale, 190.0 - height(x) * scale);
    let mut previous = to_screen(min);
    for i in 1..=150 {
        let p = to_screen(min + (max - min) * f64::from(i) / 150.0);
        f.line(previous, p, 2.0, TRACK);
        previous = p;
    }
    let flag = to_screen(0.5);
    f.line(flag, (flag.0, flag.1 - 25.0), 2.0, BLACK);
    f.rect(flag.0, flag.1 - 25.0, flag.0 + 12.0, flag.1 - 18.0, FLAG);
    let (x, y) = to_screen(s[0]);
    let angle = (3.0 * s[0]).cos().atan();
    let (c, sn) = (angle.cos(), angle.sin());
    // The car: a body along the slope, lifted off the track.
    for (along, up) in [(-10.0, 4.0), (10.0, 4.0), (-10.0, 12.0), (10.0, 12.0), (0.0, 8.0)] {
        f.disc(x + along * c - up * sn, y - along * sn - up * c, 5.0, CART);
    }
    f
}

fn pendulum(s: &[f64]) -> Frame {
    let mut f = Frame::new(250, 250);
    let (cx, cy, length) = (125.0, 125.0, 90.0);
    // theta = 0 is upright.
    let tip = (cx + length * s[0].sin(), cy - length * s[0].cos());
    f.line((cx, cy), tip, 12.0, JOINT);
    f.disc(cx, cy, 4.0, BLACK);
    f
}

/// Writes `frames` as a looping animated GIF at 50 frames per second
/// (Gymnasium's render_fps for most of these environments).
/// Writes `frames` as a looping GIF, each shown for `delay` hundredths of a second.
pub fn write_gif(path: &Path, frames: &[Frame], delay: u16) -> Result<()> {
    let first = frames.first().context("no frame to write")?;
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut encoder = gif::Encoder::new(std::io::BufWriter::new(file), first.width, first.height, &PALETTE)
        .with_context(|| format!("cannot write {}", path.display()))?;
    encoder.set_repeat(gif::Repeat::Infinite)?;
    for fr in frames {
        let mut frame = gif::Frame::from_indexed_pixels(fr.width, fr.height, fr.pixels.clone(), None);
        frame.palette = fr.palette.clone();
        frame.delay = delay;
        encoder.write_frame(&frame).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scene_draws_something_that_moves_with_the_state() {
        for (id, a, b) in [
            ("CartPole-v1", vec![0.0, 0.0, 0.0, 0.0], vec![1.0, 0.0, 0.2, 0.0]),
            ("Acrobot-v1", vec![0.0; 4], vec![1.0, 0.5, 0.0, 0.0]),
            ("MountainCar-v0", vec![-0.5, 0.0], vec![0.3, 0.0]),
            ("Pendulum-v1", vec![0.0, 0.0], vec![2.0, 0.0]),
        ] {
            let (fa, fb) = (frame(id, &a).unwrap(), frame(id, &b).unwrap());
            assert!(fa.pixels.iter().any(|p| *p != WHITE), "{id} drew nothing");
            assert_ne!(fa.pixels, fb.pixels, "{id} does not depend on the state");
        }
        assert!(frame("Breakout-v5", &[]).is_err());
    }

    #[test]
    fn a_rendered_picture_is_shrunk_by_whole_factors_and_keeps_its_colours() {
        // 480 × 360, left half red, right half blue: halved to 240 × 180.
        let (w, h) = (480, 360);
        let pixels: Vec<u8> = (0..w * h).flat_map(|i| if i % w < w / 2 { [255, 0, 0] } else { [0, 0, 255] }).collect();
        let frame = Frame::from_rgb(&natgrad_envs::RgbImage { width: w, height: h, pixels }).unwrap();
        assert_eq!((frame.width, frame.height), (240, 180));
        let palette = frame.palette.as_ref().unwrap();
        let colour = |x: usize| {
            let i = usize::from(frame.pixels[x]) * 3;
            [palette[i], palette[i + 1], palette[i + 2]]
        };
        let close = |a: [u8; 3], b: [u8; 3]| a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 8);
        assert!(close(colour(0), [255, 0, 0]) && close(colour(239), [0, 0, 255]), "{:?} {:?}", colour(0), colour(239));
        let small = natgrad_envs::RgbImage { width: 64, height: 48, pixels: vec![7; 64 * 48 * 3] };
        assert_eq!((Frame::from_rgb(&small).unwrap().width, Frame::from_rgb(&small).unwrap().height), (64, 48));
    }
}
