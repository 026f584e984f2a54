#!/usr/bin/env python3
"""Generate vgrid's bundled example: a fictional urban village in Guangzhou on a 10 kV feeder.

Everything here is synthetic and of the project's own making (no measured data): the network is
drawn with a seeded random generator, the year-long profiles are formulas with seeded noise.
The output is deterministic: the same files on every run and every machine (pure Python, no
numpy; `random.Random(SEED)` and streams derived from it).

Run:  python3 make_village.py      (writes, beside this file)
  Master.dss        the network, solved as a snapshot at the design evening peak
  Run_year.dss      Redirect Master.dss, then the year in 35,040 quarter-hour steps
  shapes/*.csv      one value per line, 35,040 lines: the archetype profiles (see shapes/README.md)

The network (50 Hz, GB/T conventions: 10 kV MV, 220/380 V LV with 0.4 kV transformer windings):

  sub (10.5 kV bus bar of the 110 kV substation, 250 MVA short-circuit power)
   |  YJV22-8.7/15 3x240 cable: sub - m1 - m2 - m3 - m4 (3 km)
   |    Transformer.ta 630 kVA at m1: block A, 150 homes + 2 restaurants, 4 LV feeders
   |    Transformer.tb 400 kVA at m2: block B, 125 homes + 1 restaurant, 3 LV feeders: the dense
   |        rental block, its room at the block's edge (60 m lead-in cables); ~129 % at the
   |        evening peak, heaviest on phase a
   |    Transformer.tc 500 kVA at m3: block C, 100 homes + 2 garment workshops, 3 LV feeders
   |    Transformer.td 315 kVA at m4: block D, 70 homes + 1 restaurant, 2 LV feeders
   |    300 kvar fixed capacitor bank at m2
   m4 == three single-phase line regulators (reg) == JKLYJ-10 120 overhead line (6 km) == m5
        Transformer.te 200 kVA at m5: block E, the old village branch: 50 homes + 1 workshop,
            rooftop PV on about a third of the roofs (3-6 kWp single-phase, 20 kWp on the workshop)
        Load.beyond: the rest of the overhead feeder (other villages), 1.4 MW lumped at m5

Distribution transformers: S11-M type, Dyn11, 10(+-2x2.5 %)/0.4 kV, set on the +5 % HV tap
(taps=[1.05 1]) as is usual where the MV runs high; losses from GB/T 6451 (S11 series).
LV: YJV22-0.6/1 kV 4-core copper cables (4x150 trunk, 4x95 further out, 4x50 lanes) between cable
branch boxes; single-phase service cables YJV 2x16 (2x25 for the largest buildings) to each
building; three-phase YJV 4x35 to shops and workshops. Sequence impedances per km at ~70 degC;
the zero sequence includes the neutral return (r0 ~ 4 r1). Each building is one single-phase
load on the phase its service cable is tied to; the phases are drawn with uneven weights per
block, as happens when buildings are connected one by one over the years.

Time convention: point i (1..35040) of every shape is the quarter hour ending at i x 15 min after
00:00 on 1 January 2026 (China Standard Time, UTC+8). That is the point OpenDSS uses at step i
of `Set mode=yearly stepsize=15m number=35040` (it advances the clock, then solves).
Every load shape equals exactly 1.000 at the design peak step (the 15 minutes ending at 21:00
on the hottest weekday evening of the synthetic year); a load's `kw=` is therefore its demand at
that instant, and the snapshot solved by Master.dss is that step of the year (PV off: after dark).
"""
import datetime
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261126
NPTS = 35040  # 365 days x 96 quarter hours
YEAR_START_WEEKDAY = 3  # 1 January 2026 is a Thursday (Monday = 0)

# ----------------------------------------------------------------------------------------------
# Calendar and weather (Guangzhou: 23.1 N, 113.3 E, clock on UTC+8)
# ----------------------------------------------------------------------------------------------
LAT_DEG, LON_DEG, TZ_MERIDIAN_DEG = 23.13, 113.26, 120.0
# Public holidays of 2026 taken as days off (day of year, 0 = 1 January), approximate.
HOLIDAYS = set([0, 1, 2]  # New Year
               + list(range(45, 54))  # Spring Festival week (New Year's day: 17 February)
               + [93, 94, 95]  # Qingming
               + list(range(120, 125))  # Labour Day
               + [169, 170, 171]  # Dragon Boat
               + [267, 268, 269]  # Mid-Autumn
               + list(range(273, 280)))  # National Day week
# Migrant tenants go home for the Spring Festival: rental buildings empty out.
SPRING_FESTIVAL_AWAY = range(38, 63)
# Monthly mean clear-sky index (daily energy over the clear-sky model's), Guangzhou-like:
# overcast drizzly spring, rainy early summer, sunny autumn.
CLEAR_INDEX_BY_MONTH = [0.54, 0.38, 0.35, 0.39, 0.45, 0.47, 0.57, 0.55, 0.59, 0.64, 0.62, 0.60]
MONTH_START = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365]


def month_of(day):
    for m in range(12):
        if day < MONTH_START[m + 1]:
            return m
    return 11


def day_off(day):
    return (YEAR_START_WEEKDAY + day) % 7 >= 5 or day in HOLIDAYS


def weather(rng):
    """Daily clear-sky index and air temperature at every quarter-hour midpoint."""
    clear = []
    z = 0.0
    for d in range(365):
        z = 0.55 * z + math.sqrt(1 - 0.55 ** 2) * rng.gauss(0, 1)
        m = CLEAR_INDEX_BY_MONTH[month_of(d)]
        clear.append(min(1.0, max(0.08, m + 0.26 * z)))
    temp = []
    a = 0.0
    for d in range(365):
        summer = 0.5 - 0.5 * math.cos(2 * math.pi * (d - 20) / 365)  # 0 in January, 1 in July
        a = 0.75 * a + rng.gauss(0, 1.3) * (1.0 - 0.55 * summer)
        mean = 21.8 - 7.6 * math.cos(2 * math.pi * (d - 20) / 365) + a
        swing = 1.5 + 3.0 * clear[d]  # sunny days swing more
        for q in range(96):
            h = (q + 0.5) / 4
            temp.append(mean + swing * math.cos(2 * math.pi * (h - 14.5) / 24))
    return clear, temp


def irradiance(rng, clear):
    """Global irradiance on the (nearly flat) roofs, kW/m2, quarter-hour means."""
    out = []
    lat = math.radians(LAT_DEG)
    cloud = 0.0
    for d in range(365):
        n = d + 1
        decl = math.radians(23.45) * math.sin(2 * math.pi * (284 + n) / 365)
        b = 2 * math.pi * (n - 81) / 364
        eot_min = 9.87 * math.sin(2 * b) - 7.53 * math.cos(b) - 1.5 * math.sin(b)
        c = clear[d]
        spread = 0.9 * c * (1 - c)  # broken clouds on partly cloudy days
        for q in range(96):
            h = (q + 0.5) / 4
            solar_h = h + (4 * (LON_DEG - TZ_MERIDIAN_DEG) + eot_min) / 60
            omega = math.radians(15 * (solar_h - 12))
            cosz = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(omega)
            cloud = 0.7 * cloud + math.sqrt(1 - 0.49) * rng.gauss(0, 1)
            if cosz <= 0.0:
                out.append(0.0)
                continue
            ghi = 1.098 * cosz * math.exp(-0.057 / cosz)  # Haurwitz clear-sky model
            k = min(1.08, max(0.04, c + spread * cloud))
            out.append(ghi * k)
    return out


# ----------------------------------------------------------------------------------------------
# Demand archetypes
# ----------------------------------------------------------------------------------------------
def hours(pairs):
    """24 hourly values from (hour, value) corners, linearly interpolated, wrapping at midnight."""
    pts = sorted(pairs)
    out = []
    for h in range(24):
        for (h0, v0), (h1, v1) in zip(pts, pts[1:] + [(pts[0][0] + 24, pts[0][1])]):
            hh = h if h >= pts[0][0] else h + 24
            if h0 <= hh <= h1:
                out.append(v0 + (v1 - v0) * (hh - h0) / (h1 - h0) if h1 > h0 else v0)
                break
    return out


def at(profile24, h):
    """Profile value at hour h (0..24, the hourly values sit at the middle of each hour)."""
    x = h - 0.5
    i = math.floor(x)
    f = x - i
    return profile24[i % 24] * (1 - f) + profile24[(i + 1) % 24] * f


# Each archetype: base use on working days and days off (kW for a unit-size building, by hour),
# air conditioning (kW at full use, and the share of air conditioners on by hour when it is
# hot), electric heaters in cold spells, and how many occupants leave at the Spring Festival.
ARCHETYPES = {
    "home_family": dict(
        desc="family flat with school children: breakfast bump, empty day, evening at home",
        work=hours([(0, .35), (5, .3), (7, .9), (8, .6), (9, .35), (16, .4), (18, 1.0), (20, 1.15), (22, .9), (23, .55)]),
        off=hours([(0, .4), (6, .35), (9, .8), (12, 1.0), (14, .7), (18, 1.05), (20, 1.15), (22, .9), (23, .6)]),
        ac_kw=2.6, ac_use=hours([(0, .55), (6, .45), (8, .1), (17, .2), (19, .7), (21, 1.0), (23, .8)]),
        ac_use_off=hours([(0, .55), (6, .45), (9, .3), (13, .6), (17, .5), (19, .75), (21, 1.0), (23, .8)]),
        heat_kw=0.8, away=0.85),
    "home_rental": dict(
        desc="rental building of migrant workers (several rooms on one meter): empty by day, late evening",
        work=hours([(0, .6), (2, .35), (6, .3), (7, .55), (8, .25), (17, .3), (19, .8), (21, 1.1), (23, 1.0)]),
        off=hours([(0, .65), (3, .35), (8, .3), (10, .6), (13, .7), (17, .6), (19, .9), (21, 1.1), (23, 1.0)]),
        ac_kw=3.4, ac_use=hours([(0, .8), (6, .6), (8, .05), (18, .1), (20, .7), (21, 1.0), (23, .95)]),
        ac_use_off=hours([(0, .8), (6, .6), (9, .3), (13, .55), (18, .45), (20, .8), (21, 1.0), (23, .95)]),
        heat_kw=0.4, away=0.3),
    "home_elderly": dict(
        desc="retired couple at home all day: cooking peaks, early evening, modest air conditioning",
        work=hours([(0, .25), (5, .25), (7, .6), (10, .5), (11, .85), (13, .5), (17, .95), (19, .8), (21, .5), (22, .3)]),
        off=hours([(0, .25), (5, .25), (7, .6), (10, .5), (11, .9), (13, .5), (17, 1.0), (19, .85), (21, .5), (22, .3)]),
        ac_kw=1.5, ac_use=hours([(0, .3), (6, .2), (10, .3), (14, .6), (17, .4), (20, .9), (22, .6)]),
        ac_use_off=None, heat_kw=1.0, away=1.0),
    "home_shopfront": dict(
        desc="ground-floor shop with the family's flat above, single-phase: open 9-22",
        work=hours([(0, .35), (7, .4), (9, .8), (12, 1.0), (14, .85), (18, 1.0), (21, 1.0), (22, .6), (23, .4)]),
        off=hours([(0, .35), (7, .4), (9, .85), (12, 1.05), (14, .9), (18, 1.05), (21, 1.0), (22, .6), (23, .4)]),
        ac_kw=2.8, ac_use=hours([(0, .4), (7, .3), (9, .6), (14, 1.0), (18, .8), (21, 1.0), (23, .6)]),
        ac_use_off=None, heat_kw=0.5, away=0.6),
    "home_high_ac": dict(
        desc="large family flat with an air conditioner in every room, on all evening and night",
        work=hours([(0, .45), (5, .4), (7, .9), (9, .45), (17, .55), (19, 1.1), (21, 1.2), (23, .7)]),
        off=hours([(0, .5), (7, .5), (10, .9), (13, 1.0), (17, .9), (19, 1.15), (21, 1.2), (23, .75)]),
        ac_kw=4.5, ac_use=hours([(0, .85), (6, .7), (8, .2), (17, .35), (19, .8), (21, 1.0), (23, .95)]),
        ac_use_off=hours([(0, .85), (6, .7), (9, .5), (13, .8), (17, .75), (19, .9), (21, 1.0), (23, .95)]),
        heat_kw=1.0, away=0.9),
    "home_night_owl": dict(
        desc="young tenants: late nights, e-bike charging after 22:00",
        work=hours([(0, 1.0), (2, .7), (4, .3), (8, .35), (9, .2), (18, .35), (20, .7), (22, 1.0), (23, 1.1)]),
        off=hours([(0, 1.0), (3, .6), (6, .25), (11, .5), (14, .6), (18, .6), (20, .8), (22, 1.0), (23, 1.1)]),
        ac_kw=2.2, ac_use=hours([(0, .9), (4, .7), (8, .1), (18, .2), (20, .6), (22, 1.0)]),
        ac_use_off=None, heat_kw=0.4, away=0.35),
    "home_low_use": dict(
        desc="small household on a tight budget: one air conditioner, used sparingly",
        work=hours([(0, .2), (5, .2), (7, .45), (9, .25), (17, .4), (19, .7), (21, .6), (23, .3)]),
        off=hours([(0, .2), (6, .2), (9, .4), (12, .55), (14, .4), (18, .7), (21, .6), (23, .3)]),
        ac_kw=1.1, ac_use=hours([(0, .4), (6, .3), (8, .05), (18, .1), (20, .7), (21, 1.0), (23, .6)]),
        ac_use_off=None, heat_kw=0.3, away=0.5),
    "home_weekend": dict(
        desc="commuting couple: little use on working days, long days at home on weekends",
        work=hours([(0, .3), (6, .3), (7, .7), (8, .25), (18, .3), (19, .8), (21, 1.0), (23, .5)]),
        off=hours([(0, .4), (8, .5), (10, 1.1), (13, 1.2), (16, 1.0), (19, 1.2), (21, 1.1), (23, .55)]),
        ac_kw=2.4, ac_use=hours([(0, .5), (6, .4), (8, .0), (18, .1), (20, .8), (21, 1.0), (23, .7)]),
        ac_use_off=hours([(0, .5), (7, .4), (10, .7), (14, 1.0), (18, .8), (21, 1.0), (23, .7)]),
        heat_kw=0.8, away=0.75),
    "shop_restaurant": dict(
        desc="three-phase restaurant / night snack stall: lunch and a long evening service",
        work=hours([(0, .55), (2, .25), (6, .15), (9, .3), (11, .9), (13, .8), (15, .45), (17, .8), (19, 1.0), (22, .95), (23, .8)]),
        off=hours([(0, .65), (2, .3), (6, .15), (9, .35), (11, 1.0), (13, .9), (15, .5), (17, .85), (19, 1.1), (22, 1.0), (23, .85)]),
        ac_kw=1.2, ac_use=hours([(0, .5), (3, .1), (9, .1), (11, .9), (14, .6), (17, .8), (20, 1.0), (23, .7)]),
        ac_use_off=None, heat_kw=0.0, away=0.4),
    "shop_workshop": dict(
        desc="three-phase garment workshop: sewing machines 8:30-12, 13:30-18 and overtime 19-22:30",
        work=hours([(0, .08), (7, .08), (8, .6), (9, 1.0), (11, 1.0), (12, .4), (13, .45), (14, 1.0), (17, 1.0), (18, .4), (19, .9), (22, .85), (23, .15)]),
        off=hours([(0, .08), (7, .08), (8, .45), (9, .75), (11, .75), (12, .3), (14, .7), (17, .7), (18, .2), (19, .35), (22, .3), (23, .08)]),
        ac_kw=0.5, ac_use=hours([(0, .0), (8, .0), (9, .8), (14, 1.0), (17, .9), (18, .3), (19, .9), (22, .9), (23, .0)]),
        ac_use_off=None, heat_kw=0.0, away=0.05),
    "mv_beyond": dict(
        desc="the rest of the 10 kV feeder beyond the village (other villages and small industry), lumped",
        work=hours([(0, .45), (4, .4), (7, .6), (9, .85), (12, .8), (14, .85), (17, .85), (19, 1.0), (21, 1.05), (23, .65)]),
        off=hours([(0, .5), (4, .42), (8, .6), (11, .8), (14, .8), (17, .85), (19, 1.0), (21, 1.05), (23, .7)]),
        ac_kw=0.6, ac_use=hours([(0, .6), (6, .4), (9, .6), (14, 1.0), (18, .8), (21, 1.0), (23, .8)]),
        ac_use_off=None, heat_kw=0.1, away=0.7),
}


def demand(rng, arch, temp):
    """Quarter-hour demand (noise-free and noisy) of one archetype, before normalisation."""
    smooth, noisy = [], []
    e = 0.0
    for d in range(365):
        off = day_off(d)
        base = arch["off"] if off else arch["work"]
        use = arch["ac_use_off"] if (off and arch["ac_use_off"]) else arch["ac_use"]
        away = arch["away"] if d in SPRING_FESTIVAL_AWAY else 1.0
        day_mean_t = sum(temp[d * 96:(d + 1) * 96]) / 96
        level = 1.0 + 0.04 * rng.gauss(0, 1)  # day-to-day habits
        for q in range(96):
            h = (q + 0.5) / 4
            t = temp[d * 96 + q]
            # Rooms in dense, sun-baked blocks stay hot after sunset: the felt heat lags the air.
            felt = 0.55 * t + 0.45 * day_mean_t + 1.0
            cooling = min(1.3, max(0.0, (felt - 24.0) / 7.0)) ** 1.3
            heating = min(1.0, max(0.0, (12.0 - t) / 6.0))
            heat_use = 1.0 if (6 <= h < 9 or 18 <= h < 23) else 0.3
            p = (at(base, h) * (1.0 + 0.08 * math.cos(2 * math.pi * (d - 200) / 365))
                 + arch["ac_kw"] * at(use, h) * cooling
                 + arch["heat_kw"] * heat_use * heating) * away
            e = 0.8 * e + 0.6 * rng.gauss(0, 0.06)
            smooth.append(p)
            noisy.append(max(0.0, p * level * (1.0 + e)))
    return smooth, noisy


def design_peak(smooth_by_name):
    """The working-day step where the homes together peak: a hot evening (the snapshot step)."""
    homes = [s for n, s in smooth_by_name.items() if n.startswith("home_")]
    best, best_i = -1.0, 0
    for i in range(NPTS):
        if day_off(i // 96):
            continue
        v = sum(s[i] for s in homes)
        if v > best:
            best, best_i = v, i
    return best_i


def fmt(v):
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return s if s not in ("", "-0") else "0"


def write_shape(name, values):
    with open(os.path.join(HERE, "shapes", name + ".csv"), "w", newline="\n") as f:
        f.write("\n".join(fmt(v) for v in values) + "\n")


def make_shapes(rng):
    clear, temp = weather(random.Random(rng.random()))
    pv = irradiance(random.Random(rng.random()), clear)
    smooth, noisy = {}, {}
    for name in ARCHETYPES:
        smooth[name], noisy[name] = demand(random.Random(rng.random()), ARCHETYPES[name], temp)
    k = design_peak(smooth)
    os.makedirs(os.path.join(HERE, "shapes"), exist_ok=True)
    stats = {}
    for name in ARCHETYPES:
        scale = 1.0 / smooth[name][k]
        vals = [v * scale for v in noisy[name]]
        vals[k] = 1.0  # exactly 1 at the design peak: kw= is the demand at that step
        write_shape(name, vals)
        stats[name] = (max(vals), sum(vals) / NPTS)
    write_shape("pv_irradiance", pv)
    stats["pv_irradiance"] = (max(pv), sum(pv) * 0.25)  # peak kW/m2, kWh/m2 per year
    return k, stats, temp


# ----------------------------------------------------------------------------------------------
# Network
# ----------------------------------------------------------------------------------------------
LINECODES = [
    "! MV: YJV22-8.7/15 3x240 Cu cable; JKLYJ-10 120 Al insulated overhead conductor",
    "New LineCode.mv_yjv22_3x240 nphases=3 r1=0.098 x1=0.095 r0=0.35 x0=0.30 c1=370 c0=370 units=km normamps=455",
    "New LineCode.mv_jklyj_120 nphases=3 r1=0.253 x1=0.34 r0=0.40 x0=1.10 c1=9.5 c0=4.5 units=km normamps=375",
    "! LV: YJV22-0.6/1 4-core Cu cables (zero sequence with the neutral return); service cables",
    "New LineCode.lv_yjv22_4x150 nphases=3 r1=0.150 x1=0.077 r0=0.60 x0=0.31 c1=0 c0=0 units=km normamps=315",
    "New LineCode.lv_yjv22_4x95 nphases=3 r1=0.232 x1=0.078 r0=0.93 x0=0.32 c1=0 c0=0 units=km normamps=245",
    "New LineCode.lv_yjv22_4x50 nphases=3 r1=0.441 x1=0.083 r0=1.76 x0=0.34 c1=0 c0=0 units=km normamps=170",
    "New LineCode.lv_yjv_4x35 nphases=3 r1=0.628 x1=0.086 r0=2.50 x0=0.35 c1=0 c0=0 units=km normamps=135",
    "! single-phase drops: phase and neutral loop (r1 = r0, so the 1-phase self impedance is the loop's)",
    "New LineCode.svc_yjv_2x16 nphases=1 r1=2.76 x1=0.10 r0=2.76 x0=0.10 c1=0 c0=0 units=km normamps=95",
    "New LineCode.svc_yjv_2x25 nphases=1 r1=1.77 x1=0.10 r0=1.77 x0=0.10 c1=0 c0=0 units=km normamps=125",
]

# S11-M series (GB/T 6451): kVA -> (no-load loss kW, load loss kW, impedance voltage %)
S11 = {200: (0.34, 2.60, 4.0), 315: (0.48, 3.65, 4.0), 400: (0.57, 4.30, 4.0),
       500: (0.68, 5.15, 4.0), 630: (0.81, 6.20, 4.5), 800: (0.98, 7.50, 4.5)}

HOME_ARCHETYPES = [n for n in ARCHETYPES if n.startswith("home_")]
# Typical demand at the design peak (kW) of one building of each archetype, before block scaling.
HOME_PEAK_KW = {"home_family": 4.5, "home_rental": 6.5, "home_elderly": 2.2, "home_shopfront": 5.0,
                "home_high_ac": 7.0, "home_night_owl": 3.8, "home_low_use": 1.8, "home_weekend": 4.0}

# Blocks: (id, transformer kVA, MV bus, feeders [(trunk boxes, lanes)], homes, archetype weights,
#          phase weights a/b/c, heaviest-phase loading at the design peak (share of kVA/3),
#          three-phase customers [(archetype, kW at peak)], PV share of homes)
BLOCKS = [
    ("a", 630, "m1", [(7, 2), (6, 2), (6, 1), (5, 1)], 150,
     {"home_family": 3, "home_rental": 3, "home_elderly": 2, "home_shopfront": 3, "home_high_ac": 1,
      "home_night_owl": 2, "home_low_use": 1, "home_weekend": 2},
     (0.40, 0.33, 0.27), 0.80, [("shop_restaurant", 28.0), ("shop_restaurant", 18.0)], 0.0),
    ("b", 400, "m2", [(7, 2), (6, 2), (5, 1)], 125,
     {"home_family": 2, "home_rental": 5, "home_elderly": 1, "home_shopfront": 1, "home_high_ac": 3,
      "home_night_owl": 3, "home_low_use": 1, "home_weekend": 1},
     (0.45, 0.31, 0.24), 1.16, [("shop_restaurant", 22.0)], 0.0),
    ("c", 500, "m3", [(6, 2), (6, 1), (5, 1)], 100,
     {"home_family": 3, "home_rental": 2, "home_elderly": 2, "home_shopfront": 1, "home_high_ac": 1,
      "home_night_owl": 1, "home_low_use": 2, "home_weekend": 2},
     (0.30, 0.42, 0.28), 0.79, [("shop_workshop", 35.0), ("shop_workshop", 25.0)], 0.0),
    ("d", 315, "m4", [(6, 1), (5, 1)], 70,
     {"home_family": 3, "home_rental": 2, "home_elderly": 2, "home_shopfront": 1, "home_high_ac": 1,
      "home_night_owl": 1, "home_low_use": 2, "home_weekend": 2},
     (0.28, 0.30, 0.42), 0.77, [("shop_restaurant", 15.0)], 0.0),
    ("e", 200, "m5", [(6, 1), (5, 1)], 50,
     {"home_family": 4, "home_rental": 1, "home_elderly": 3, "home_shopfront": 1, "home_high_ac": 1,
      "home_night_owl": 0, "home_low_use": 2, "home_weekend": 2},
     (0.38, 0.35, 0.27), 0.68, [("shop_workshop", 12.0)], 0.35),
]

# Block B's transformer room stands at the edge of the block: its feeders start with a long
# run to the first cable box (m), which is where its evening voltage sags.
LEAD_IN_M = {"b": 60.0}


def weighted(rng, weights):
    names = list(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def lv_block(rng, block):
    """Cable runs from one transformer's LV bus, with buildings on single-phase drops."""
    bid, kva, _mv, feeders, n_homes, mix, phase_w, target, shops, pv_share = block
    lines, loads, pvs = [], [], []
    boxes = []  # (bus, distance from the transformer in m)
    for f, (n_trunk, n_lanes) in enumerate(feeders, start=1):
        prev, dist = f"{bid}0", 0.0
        trunk = []
        for k in range(1, n_trunk + 1):
            bus = f"{bid}{f}_{k}"
            code = "lv_yjv22_4x150" if k <= (n_trunk + 1) // 2 else "lv_yjv22_4x95"
            length = rng.uniform(25, 45) + (LEAD_IN_M.get(bid, 0.0) if k == 1 else 0.0)
            dist += length
            lines.append(f"New Line.{bid}{f}_{k} bus1={prev} bus2={bus} phases=3 linecode={code} "
                         f"length={length:.1f} units=m")
            trunk.append((bus, dist))
            prev = bus
        boxes += trunk
        # Lanes: 4x50 cables from a trunk box into the alleys, two or three boxes deep.
        for ln in range(1, n_lanes + 1):
            root, rdist = trunk[rng.randrange(1, len(trunk))]
            prev, dist = root, rdist
            for k in range(1, rng.choice([2, 3]) + 1):
                bus = f"{root}l{ln}_{k}"
                length = rng.uniform(25, 45)
                dist += length
                lines.append(f"New Line.{root}l{ln}_{k} bus1={prev} bus2={bus} phases=3 "
                             f"linecode=lv_yjv22_4x50 length={length:.1f} units=m")
                boxes.append((bus, dist))
                prev = bus
    # Buildings: archetype, size, phase, box.
    homes = []
    for h in range(1, n_homes + 1):
        arch = weighted(rng, mix)
        size = HOME_PEAK_KW[arch] * math.exp(rng.gauss(0, 0.3))
        ph = rng.choices([1, 2, 3], weights=phase_w)[0]
        box = boxes[rng.randrange(len(boxes))][0]
        homes.append([f"{bid}h{h:03d}", arch, size, ph, box])
    # Scale the homes so the heaviest phase, with the three-phase customers, reaches the target.
    per_phase = [0.0, 0.0, 0.0]
    for _, _, size, ph, _ in homes:
        per_phase[ph - 1] += size
    shop_kw = sum(kw for _, kw in shops) / 3
    target_kw = target * kva / 3 * 0.95  # per phase, at pf ~0.95
    scale = (target_kw - shop_kw) / max(per_phase)
    for hm in homes:
        hm[2] *= scale
    for name, arch, kw, ph, box in homes:
        code = "svc_yjv_2x25" if kw > 9.0 else "svc_yjv_2x16"
        length = rng.uniform(8, 30)
        lines.append(f"New Line.{name} bus1={box}.{ph} bus2={name}.1 phases=1 linecode={code} "
                     f"length={length:.1f} units=m")
        loads.append(f"New Load.{name} bus1={name}.1 phases=1 kv=0.22 kw={kw:.2f} pf=0.95 model=1 "
                     f"vminpu=0.85 vmaxpu=1.15 yearly={arch}")
    pv_homes = [hm for hm in homes if rng.random() < pv_share]
    for name, _, _, _, _ in pv_homes:
        pmpp = rng.choice([3, 4, 5, 6])
        pvs.append(f"New PVSystem.pv_{name} bus1={name}.1 phases=1 kv=0.22 pmpp={pmpp} "
                   f"kva={pmpp * 1.1:.1f} irradiance=1 pf=1 %cutin=0.1 %cutout=0.1 yearly=pv_irradiance")
    for s, (arch, kw) in enumerate(shops, start=1):
        name = f"{bid}s{s}"
        box = boxes[rng.randrange(len(boxes))][0]
        length = rng.uniform(10, 25)
        lines.append(f"New Line.{name} bus1={box} bus2={name} phases=3 linecode=lv_yjv_4x35 "
                     f"length={length:.1f} units=m")
        loads.append(f"New Load.{name} bus1={name} phases=3 kv=0.38 kw={kw:.2f} pf=0.9 model=1 "
                     f"vminpu=0.85 vmaxpu=1.15 yearly={arch}")
        if pv_share > 0:
            pvs.append(f"New PVSystem.pv_{name} bus1={name} phases=3 kv=0.38 pmpp=20 kva=22 irradiance=1 "
                       f"pf=1 %cutin=0.1 %cutout=0.1 yearly=pv_irradiance")
    counts = [sum(1 for hm in homes if hm[3] == p) for p in (1, 2, 3)]
    pv_kw = sum(float(p.split("pmpp=")[1].split()[0]) for p in pvs)
    summary = (f"! block {bid.upper()}: {n_homes} buildings on phases a/b/c = {counts[0]}/{counts[1]}/"
               f"{counts[2]}, {len(shops)} three-phase customers, {len(boxes)} cable boxes"
               + (f", {len(pvs)} rooftop PV systems ({pv_kw:.0f} kWp)" if pvs else ""))
    return summary, lines, loads, pvs


def shape_lines():
    out = []
    for name in list(ARCHETYPES) + ["pv_irradiance"]:
        out.append(f"New Loadshape.{name} npts={NPTS} minterval=15 mult=(file=shapes/{name}.csv)")
    return out


def network(rng, peak_step):
    day, q = divmod(peak_step, 96)
    hh, mm = divmod((q + 1) * 15, 60)
    date = datetime.date(2026, 1, 1) + datetime.timedelta(days=day)
    weekday = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][date.weekday()]
    month = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December"][date.month - 1]
    stamp = f"{weekday} {date.day} {month} 2026, the quarter hour ending at {hh:02d}:{mm:02d}"
    out = ["! vgrid example: a fictional urban village in Guangzhou on a 10 kV feeder (50 Hz)",
           "! Generated by make_village.py (fixed seed) -- edit the generator, not this file.",
           "! Synthetic: network and profiles are of the project's own making, not measured data.",
           f"! The snapshot solved here is the design evening peak: step {peak_step + 1} of the year,",
           f"! {stamp}. Every load shape equals 1 at that step,",
           "! so a load's kw= is its demand then. Run_year.dss runs the whole year.",
           "Clear", "Set DefaultBaseFrequency=50",
           "New Circuit.village basekv=10.5 pu=1.0 phases=3 bus1=sub MVAsc3=250 MVAsc1=200",
           "", "! year-long quarter-hour shapes (35,040 points; see shapes/README.md)"]
    out += shape_lines()
    out += [""] + LINECODES
    out += ["", "! 10 kV feeder",
            "New Line.mv1 bus1=sub bus2=m1 linecode=mv_yjv22_3x240 length=0.8 units=km",
            "New Line.mv2 bus1=m1 bus2=m2 linecode=mv_yjv22_3x240 length=0.6 units=km",
            "New Line.mv3 bus1=m2 bus2=m3 linecode=mv_yjv22_3x240 length=0.9 units=km",
            "New Line.mv4 bus1=m3 bus2=m4 linecode=mv_yjv22_3x240 length=0.7 units=km",
            "New Line.mv5 bus1=reg bus2=m5 linecode=mv_jklyj_120 length=6.0 units=km",
            "",
            "! line regulators at the head of the overhead line (three single-phase units, 32 steps of 0.625 %)",
            "New Transformer.rega phases=1 bank=reg buses=[m4.1 reg.1] kvs=[5.774 5.774] kvas=[3000 3000] xhl=0.01 %loadloss=0.0001",
            "New Transformer.regb phases=1 bank=reg buses=[m4.2 reg.2] kvs=[5.774 5.774] kvas=[3000 3000] xhl=0.01 %loadloss=0.0001",
            "New Transformer.regc phases=1 bank=reg buses=[m4.3 reg.3] kvs=[5.774 5.774] kvas=[3000 3000] xhl=0.01 %loadloss=0.0001",
            "New RegControl.rega transformer=rega winding=2 vreg=126 band=2 ptratio=48.11 ctprim=200 r=0 x=0",
            "New RegControl.regb transformer=regb winding=2 vreg=126 band=2 ptratio=48.11 ctprim=200 r=0 x=0",
            "New RegControl.regc transformer=regc winding=2 vreg=126 band=2 ptratio=48.11 ctprim=200 r=0 x=0",
            "",
            "New Capacitor.c_m2 bus1=m2 phases=3 kvar=300 kv=10",
            "",
            "! the rest of the overhead feeder beyond the village, lumped",
            "New Load.beyond bus1=m5 phases=3 kv=10 kw=1400 pf=0.92 model=1 yearly=mv_beyond",
            "",
            "! 10/0.4 kV distribution transformers: S11-M, Dyn11, on the +5 % HV tap"]
    for bid, kva, mv, *_ in BLOCKS:
        p0, pk, uk = S11[kva]
        r_pct = 100 * pk / kva
        x_pct = math.sqrt(uk * uk - r_pct * r_pct)
        out.append(f"New Transformer.t{bid} phases=3 windings=2 buses=[{mv} {bid}0] conns=[delta wye] "
                   f"kvs=[10 0.4] kvas=[{kva} {kva}] taps=[1.05 1] xhl={x_pct:.3f} "
                   f"%loadloss={r_pct:.4f} %noloadloss={100 * p0 / kva:.4f} %imag={0.9 if kva < 500 else 0.8}")
    for block in BLOCKS:
        summary, lines, loads, pvs = lv_block(rng, block)
        out += ["", summary] + lines + loads + pvs
    out += ["", "Set voltagebases=[10 0.38]", "CalcVoltageBases", "",
            "! the snapshot: the design evening peak, after dark (PV off; the year's run puts it back)",
            "Batchedit PVSystem..* irradiance=0",
            "Solve"]
    return out


RUN_YEAR = """! vgrid example: the whole year of the village in 35,040 quarter-hour steps.
! Generated by make_village.py. Master.dss solves the evening-peak snapshot first; then every
! load and PV follows its yearly shape, and the line regulators act at every step.
Redirect Master.dss
Batchedit PVSystem..* irradiance=1
Set mode=yearly stepsize=15m number=35040
Solve
"""


def main():
    rng = random.Random(SEED)
    peak_step, stats, _temp = make_shapes(random.Random(rng.random()))
    out = network(random.Random(rng.random()), peak_step)
    with open(os.path.join(HERE, "Master.dss"), "w", newline="\n") as f:
        f.write("\n".join(out) + "\n")
    with open(os.path.join(HERE, "Run_year.dss"), "w", newline="\n") as f:
        f.write(RUN_YEAR)
    print(f"design peak: step {peak_step + 1} (day {peak_step // 96 + 1}, ending "
          f"{((peak_step % 96) + 1) * 15 // 60:02d}:{((peak_step % 96) + 1) * 15 % 60:02d})")
    for name, (mx, mean) in stats.items():
        print(f"  {name:16s} max {mx:.3f}  {'kWh/m2/yr' if name.startswith('pv') else 'mean'} {mean:.3f}")


if __name__ == "__main__":
    main()
