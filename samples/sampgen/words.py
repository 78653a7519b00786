"""Synthetic vocabulary and identifiers for the scanvault sample generator.

Everything here is made up: names come from small built-in lists, phone
numbers use the 555-01xx range reserved for fiction, addresses and hospitals
are invented.  Identifier helpers take a random.Random so that a document is
reproducible from its seed.
"""

import datetime

FIRST_NAMES = [
    "Alice", "Bernard", "Carmen", "Dmitri", "Elena", "Farid", "Greta", "Hector",
    "Ingrid", "Jonah", "Keiko", "Leon", "Marisol", "Nadia", "Oscar", "Priya",
    "Quentin", "Rosa", "Samuel", "Tamsin", "Ulrich", "Vera", "Walter", "Ximena",
    "Yusuf", "Zelda", "Arthur", "Beatrix", "Cyrus", "Delphine", "Emmett",
    "Flora", "Gideon", "Harriet", "Ivan", "Juniper", "Kofi", "Lorna", "Milo",
    "Noor",
]

LAST_NAMES = [
    "Abernathy", "Baptiste", "Castellano", "Dunmore", "Eklund", "Fairweather",
    "Galloway", "Hollis", "Iverson", "Jablonski", "Kettering", "Lindqvist",
    "Mcallister", "Northcott", "Okonkwo", "Pemberton", "Quaresma", "Rutherford",
    "Santoro", "Thackeray", "Umberger", "Vasquez", "Whitlock", "Yardley",
    "Zimmerman", "Ashdown", "Brightwater", "Corrigan", "Delacroix", "Easton",
    "Fenwick", "Greaves", "Hargrove", "Ingleby", "Juarez", "Kowalczyk",
    "Lockhart", "Marchetti", "Nakamura", "Oyelaran",
]

CLINICIAN_LAST = [
    "Albright", "Bellamy", "Chandrasekar", "Donovan", "Ellsworth", "Fitzgerald",
    "Gutierrez", "Halvorsen", "Imamura", "Jorgensen", "Kaplan", "Lindgren",
    "Moreau", "Nwosu", "Ostrowski", "Prescott", "Raghavan", "Sorensen",
    "Tremblay", "Vance",
]

HOSPITALS = [
    "Brookfield Regional Medical Center", "Eastmoor General Hospital",
    "Sable Creek Community Hospital", "Whitmore University Hospital",
    "Pine Hollow Medical Center", "St. Veronica's Hospital",
    "Lakeshore Memorial Hospital", "Granite Ridge Health System",
    "Willow Bend Medical Center", "Northfield County Hospital",
    "Saint Anselm Regional Hospital", "Cobalt Bay Medical Center",
]

OUTSIDE_LABS = [
    "Meridian Reference Laboratories", "ClearPath Diagnostics",
    "Tri-County Clinical Labs", "Keystone Pathology Associates",
]

CLINICS = [
    "Maple Street Family Practice", "Riverside Internal Medicine",
    "Oakmont Pediatrics", "Summit Cardiology Associates",
    "Harbor Lights Urgent Care", "Valley Women's Health",
]

STREETS = [
    "Elm Street", "Harbor Road", "Quarry Lane", "Commerce Parkway",
    "Old Mill Road", "Lincoln Avenue", "Orchard Drive", "Station Square",
    "Bayview Boulevard", "Hillcrest Way",
]

# city, state, ZIP prefix (3 digits), area code
CITIES = [
    ("Springfield", "IL", "627", "217"), ("Fairview", "OH", "441", "216"),
    ("Greenville", "SC", "296", "864"), ("Riverton", "WY", "825", "307"),
    ("Ashland", "OR", "975", "541"), ("Milford", "CT", "064", "203"),
    ("Clayton", "MO", "631", "314"), ("Dover", "DE", "199", "302"),
    ("Madison", "WI", "537", "608"), ("Salem", "MA", "019", "978"),
]

SPECIALTIES = [
    "Cardiology", "Gastroenterology", "Orthopedic Surgery", "Neurology",
    "Endocrinology", "Pulmonology", "Dermatology", "Nephrology",
    "Rheumatology", "Urology", "Oncology", "Physical Therapy",
]

MONTHS = ["January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December"]


def luhn_digit(body):
    """Mod-10 (Luhn) check digit for the digit string body."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(number):
    """True when the last digit of number is the Luhn digit of the rest."""
    return len(number) > 1 and luhn_digit(number[:-1]) == number[-1]


def digits(rng, n, first_nonzero=True):
    head = str(rng.randint(1, 9)) if first_nonzero else str(rng.randint(0, 9))
    return head + "".join(str(rng.randint(0, 9)) for _ in range(n - 1))


def make_mrn(rng, avoid=()):
    """8 digits, first non-zero, last = Luhn digit over the first 7."""
    while True:
        body = digits(rng, 7)
        mrn = body + luhn_digit(body)
        if mrn not in avoid:
            return mrn


def make_account(rng, avoid=()):
    """8-digit account number: same shape as an MRN, half of them even pass Luhn."""
    while True:
        if rng.random() < 0.5:
            body = digits(rng, 7)
            acct = body + luhn_digit(body)
        else:
            acct = digits(rng, 8)
        if acct not in avoid:
            return acct


def format_mrn(mrn, valfmt):
    if valfmt == "dashed":
        return mrn[:4] + "-" + mrn[4:]
    if valfmt == "spaced":
        return mrn[:2] + " " + mrn[2:5] + " " + mrn[5:]
    return mrn


def phone(rng, area):
    return "(%s) 555-01%02d" % (area, rng.randint(0, 99))


def phone_plain(rng, area):
    return "%s-555-01%02d" % (area, rng.randint(0, 99))


def npi(rng):
    return "1" + digits(rng, 9, first_nonzero=False)


def dea(rng, last_name):
    """DEA registration: 2 letters + 6 digits + the DEA check digit."""
    first = rng.choice("ABFGM")
    six = [rng.randint(0, 9) for _ in range(6)]
    check = (six[0] + six[2] + six[4] + 2 * (six[1] + six[3] + six[5])) % 10
    return first + last_name[0].upper() + "".join(map(str, six)) + str(check)


def accession(rng, year):
    yy = "%02d" % (year % 100)
    form = rng.randrange(4)
    if form == 0:
        return "A%s-%s" % (yy, digits(rng, 7, False))
    if form == 1:
        return "RAD%s%s" % (yy, digits(rng, 6, False))
    if form == 2:
        return "%s-%s-%s" % (yy, rng.choice(["CH", "HM", "MB", "SP"]), digits(rng, 6, False))
    return "20%s%s" % (yy, digits(rng, 6, False))


def specimen_id(rng, year):
    if rng.random() < 0.5:
        return "S%02d-%s" % (year % 100, digits(rng, 6, False))
    return "SP-" + digits(rng, 7, False)


def order_no(rng):
    return digits(rng, rng.choice([7, 8, 9]))


def encounter_no(rng):
    if rng.random() < 0.3:
        return "V" + digits(rng, 8, False)
    return digits(rng, rng.choice([9, 10]))


def zip_code(rng, prefix):
    return prefix + "%02d" % rng.randint(1, 99)


def address(rng, city):
    name, state, zprefix, _ = city
    return ("%d %s" % (rng.randint(10, 9800), rng.choice(STREETS)),
            "%s, %s %s" % (name, state, zip_code(rng, zprefix)))


class Date:
    """A calendar day with the few spellings found on forms."""

    def __init__(self, year, month, day):
        self.d = datetime.date(year, month, day)

    @property
    def year(self):
        return self.d.year

    def us(self):
        return "%02d/%02d/%04d" % (self.d.month, self.d.day, self.d.year)

    def iso(self):
        return self.d.isoformat()

    def long(self):
        return "%s %d, %d" % (MONTHS[self.d.month - 1], self.d.day, self.d.year)

    def dmy(self):
        return "%02d-%s-%04d" % (self.d.day, MONTHS[self.d.month - 1][:3], self.d.year)

    def styled(self, style):
        return {"us": self.us, "iso": self.iso, "long": self.long, "dmy": self.dmy}[style]()

    def plus(self, days):
        n = self.d + datetime.timedelta(days=days)
        return Date(n.year, n.month, n.day)


def random_date(rng, y0, y1):
    return Date(rng.randint(y0, y1), rng.randint(1, 12), rng.randint(1, 28))


def clinician(rng, title=True, physician=False):
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(CLINICIAN_LAST)
    cred = rng.choice(["MD", "MD", "DO"] if physician else ["MD", "MD", "DO", "NP", "PA-C"])
    if title and cred in ("MD", "DO"):
        return "Dr. %s %s" % (first, last), "%s %s, %s" % (first, last, cred), last
    return "%s %s, %s" % (first, last, cred), "%s %s, %s" % (first, last, cred), last


class Patient:
    """A synthetic patient: name, birth date, sex, MRN, decoy numbers."""

    def __init__(self, rng, mrn):
        self.first = rng.choice(FIRST_NAMES)
        self.last = rng.choice(LAST_NAMES)
        self.dob = random_date(rng, 1931, 2019)
        self.sex = rng.choice(["F", "M"])
        self.mrn = mrn
        self.city = rng.choice(CITIES)
        self.street, self.cityline = address(rng, self.city)
        self.phone = phone(rng, self.city[3])

    @property
    def full(self):
        return "%s %s" % (self.first, self.last)

    @property
    def last_first(self):
        return "%s, %s" % (self.last, self.first)

    def styled_name(self, rng):
        return rng.choice([self.last_first.upper(), self.last_first, self.full, self.full.upper()])
