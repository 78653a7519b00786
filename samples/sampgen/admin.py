"""Prescriptions, referrals, fax cover sheets and letters."""

from . import common, words

DRUGS = [
    ("Amoxicillin 500 mg capsule", "Take 1 capsule by mouth three times daily for 10 days", "#30 (thirty)"),
    ("Lisinopril 10 mg tablet", "Take 1 tablet by mouth once daily", "#90 (ninety)"),
    ("Metformin 500 mg tablet", "1 tab PO BID with meals", "#60"),
    ("Atorvastatin 20 mg tablet", "Take 1 tablet by mouth at bedtime", "#30"),
    ("Ibuprofen 600 mg tablet", "1 tab PO q6h PRN pain, take with food", "#20 (twenty)"),
    ("Prednisone 10 mg tablet", "4 tabs daily x 3 days, then 2 tabs daily x 3 days", "#18"),
    ("Azithromycin 250 mg tablet", "2 tabs on day 1, then 1 tab daily x 4 days", "#6 (six)"),
    ("Omeprazole 20 mg capsule", "1 cap PO daily before breakfast", "#30"),
    ("Sertraline 50 mg tablet", "Take 1 tablet by mouth daily", "#30 (thirty)"),
    ("Albuterol HFA 90 mcg inhaler", "2 puffs q4-6h PRN wheeze", "1 inhaler"),
    ("Cephalexin 500 mg capsule", "1 cap PO QID x 7 days", "#28"),
    ("Hydrochlorothiazide 25 mg tablet", "1 tab PO every morning", "#30"),
]

RX_TITLES = ["PRESCRIPTION", "Prescription", "Outpatient Prescription", "MEDICATION ORDER",
             "Discharge Prescription", "Rx Order"]


def _prescriber_lines(c, doc):
    rng = c.rng
    c.decoys.update(["npi", "dea"])
    return ["%s   NPI: %s   DEA: %s" % (doc[1], words.npi(rng), words.dea(rng, doc[2]))]


def build_rx_printed(c):
    w, rng = c.w, c.rng
    doc = words.clinician(rng)
    common.place_stickers(c)
    common.letterhead(c, extra_lines=_prescriber_lines(c, doc))
    common.title(c, RX_TITLES)
    w.labelled_row([("Date:", c.date(), 0.0)])
    c.decoys.add("date")
    common.patient_block(c, extra=[("Address:", "%s, %s" % (c.p.street, c.p.cityline))]
                         if rng.random() < 0.5 else ())
    pt = c.st.body_pt
    for drug, sig, disp in rng.sample(DRUGS, rng.randint(1, 3)):
        w.ensure(w.line_h(pt) * 5)
        w.text("Rx  " + drug, pt + 2, True)
        w.labelled_row([(rng.choice(["Sig:", "SIG:", "Directions:"]), sig, 0.04)])
        w.labelled_row([(rng.choice(["Dispense:", "Disp:", "Qty:"]), disp, 0.04),
                        (rng.choice(["Refills:", "Refill:", "RF:"]), str(rng.randint(0, 5)), 0.5)])
        w.gap(5)
    w.text(rng.choice(["Substitution permitted", "Dispense as written", "Generic substitution allowed"]))
    common.signature(c, doc[1], "Prescriber signature")


def build_rx_hand(c):
    """A prescription pad: printed header and labels, body written by hand."""
    w, rng = c.w, c.rng
    doc = words.clinician(rng)
    pt = c.st.body_pt
    common.place_stickers(c)
    clinic = rng.choice(words.CLINICS + [c.org])
    name_pt = w.fit_pt(doc[1], 14, c.text_right - w.left, bold=True)
    w.text(doc[1], name_pt, True)
    for s in [clinic, "%s, %s" % (c.org_street, c.org_cityline),
              "Tel %s   Fax %s" % (c.tel, c.fax)] + _prescriber_lines(c, doc)[0].split("   ")[1:]:
        w.text(s, max(9, pt - 1))
    c.decoys.update(["phone", "fax"])
    w.y = max(w.y, c.sticker_bottom)
    w.hr(1.0)
    w.gap(6)
    hand = c.mm["kind"] in ("hand_value", "hand_full")
    span = w.right - w.left
    fields = [("Name", c.p.full), ("Date", c.date())]
    if rng.random() < 0.6:
        fields.insert(1, ("DOB", c.p.dob.us()))
    if rng.random() < 0.4:
        fields.append(("Address", "%s %s" % (c.p.street, c.p.city[0])))
    if c.mm["kind"] == "hand_value":
        fields.append((c.mm.get("label", "MRN").rstrip(":").rstrip(), common.mrn_value(c)))
    line_gap = w.line_h(pt) * 2
    for lab, val in fields:
        w.ensure(line_gap)
        x = w.left + w.text_at(w.left, w.y, lab + ":", pt, True) + w.px(6)
        base = w.y + w.px(pt * 1.2)
        w.draw.line([x, base, w.left + int(span * 0.85), base], fill=w.ink(), width=max(1, w.px(0.5)))
        common.hand_write(c, x + w.px(6), w.y - w.px(pt * 0.55), val, 1.5)
        w.y += line_gap
    if c.mm["kind"] == "hand_full":
        lab = rng.choice(["MRN ", "MRN# ", "MR# ", "Med rec # "])
        common.hand_write(c, w.left + int(span * rng.uniform(0.3, 0.5)), w.y - w.px(4),
                          lab + common.mrn_value(c), 1.5)
        w.y += line_gap
    w.text("Rx", 30, True, path=c.st.bold)
    drug, sig, disp = rng.choice(DRUGS)
    body = [drug, "Sig: " + sig.replace("Take ", ""), "Disp: " + disp, "Refills: %d" % rng.randint(0, 3)]
    if len(body[1]) > 34:
        cut = body[1].rfind(" ", 0, 34)
        body[1:2] = [body[1][:cut], "      " + body[1][cut + 1:]]
    for s in body:
        w.ensure(line_gap)
        common.hand_write(c, w.left + w.px(30), w.y, s, 1.55)
        w.y += int(line_gap * 0.85)
    w.gap(10)
    w.text(rng.choice(["[ ] Dispense as written", "Substitution permitted"]), max(9, pt - 1))
    common.signature(c, doc[1], rng.choice(["Signature", "Prescriber"]))
    assert hand or c.mm["kind"] in ("sticker_only", "none", "hand_margin")


REF_TITLES = ["REFERRAL", "Referral Request", "CONSULTATION REQUEST", "Specialist Referral Form",
              "Outpatient Referral", "Request for Consultation", "REFERRAL / AUTHORIZATION REQUEST"]

REASONS = [
    "Evaluation of exertional chest pain with abnormal stress test.",
    "Persistent iron deficiency anemia; please evaluate for GI blood loss.",
    "Chronic right knee pain with mechanical symptoms despite 8 weeks of physical therapy.",
    "Recurrent migraines refractory to two preventive agents.",
    "Poorly controlled type 2 diabetes, HbA1c 9.8% on three agents.",
    "Progressive dyspnea and abnormal pulmonary function tests.",
    "Changing pigmented lesion on the upper back.",
    "Stage 3b chronic kidney disease with rising creatinine.",
    "Inflammatory arthritis of the hands, positive rheumatoid factor.",
    "Microscopic hematuria on two occasions.",
]

REASON_MORE = [
    "Symptoms have progressed over the past three months.",
    "Patient and family request specialist opinion.",
    "Recent laboratory results and imaging are attached.",
    "Please advise on further work-up and management.",
    "No prior evaluation by your service.",
    "Would appreciate an appointment at your earliest availability.",
]


def build_referral(c):
    w, rng = c.w, c.rng
    pt = c.st.body_pt
    common.place_stickers(c)
    common.letterhead(c, org=rng.choice(words.CLINICS + [c.org]))
    spec = rng.choice(words.SPECIALTIES)
    to = words.clinician(rng)
    frm = words.clinician(rng)
    letter = rng.random() < 0.3 and c.mm["kind"] not in ("hand_value", "table")
    if letter:
        w.text(c.date())
        c.decoys.add("date")
        w.gap(6)
        w.text(to[0] + ", " + spec)
        w.text(rng.choice(words.HOSPITALS))
        w.gap(6)
        w.text(rng.choice(["Re: Referral", "RE: New patient referral", "Re: Consultation"]), pt, True)
        common.patient_block(c)
        w.para("Dear %s," % to[0])
        w.para("Thank you for seeing my patient, %s, who I am referring for %s. %s" %
               (c.p.full, spec.lower(), rng.choice(REASONS)))
        w.para("Relevant notes, medication list and recent laboratory results are enclosed. Please do not "
               "hesitate to call our office at %s with any questions." % c.tel)
        w.para(rng.choice(["Sincerely,", "Kind regards,", "With thanks,"]))
        common.signature(c, frm[1])
        return
    common.title(c, REF_TITLES)
    w.labelled_row([("Date:", c.date(), 0.0),
                    ("Urgency:", rng.choice(["Routine", "Urgent", "STAT", "Routine (within 4 weeks)"]), 0.5)])
    c.decoys.add("date")
    common.patient_block(c)
    c.decoys.add("npi")
    w.labelled_row([(rng.choice(["Referred to:", "Refer To:", "Consultant:"]), "%s, %s" % (to[0], spec), 0.0)])
    w.labelled_row([(rng.choice(["Referring provider:", "From:", "Referred by:"]), frm[1], 0.0),
                    ("NPI:", words.npi(rng), 0.6)])
    w.labelled_row([("Fax:", words.phone(rng, c.city[3]), 0.0), ("Phone:", c.tel, 0.5)])
    if rng.random() < 0.6:
        w.labelled_row([("Insurance:", rng.choice(["BlueStar Health", "Meridian Mutual", "Medicare Part B",
                                                    "Unity Care Plan"]), 0.0),
                        ("Member ID:", "%s%s" % (rng.choice(["XJ", "MBR", "QH"]), words.digits(rng, 9)), 0.5)])
        c.decoys.add("member_id")
    if rng.random() < 0.4:
        c.decoys.add("authorization")
        w.labelled_row([("Authorization #:", "AUTH-%d-%s" % (c.day.year, words.digits(rng, 5, False)), 0.0)])
    w.gap(6)
    w.text(rng.choice(["Reason for referral:", "Reason for Referral:", "REASON FOR CONSULTATION:",
                       "Clinical question:"]), pt, True)
    w.para(rng.choice(REASONS) + " " + rng.choice(REASON_MORE))
    w.text(rng.choice(["Diagnosis (ICD-10):", "Diagnosis:", "Dx:"]), pt, True)
    w.para(rng.choice(["I20.9 Angina pectoris, unspecified", "D50.9 Iron deficiency anemia",
                       "M23.91 Internal derangement of right knee", "G43.909 Migraine",
                       "E11.65 Type 2 diabetes with hyperglycemia", "N18.32 CKD stage 3b"]))
    w.text(rng.choice(["Records enclosed:", "Attached:"]), pt, True)
    y = w.y
    x = w.left
    for item in ["Office notes", "Labs", "Imaging", "Medication list"]:
        x += w.checkbox(x, y, pt, rng.random() < 0.6)
        x += w.text_at(x, y, item, pt) + w.px(14)
    w.y += w.line_h(pt)
    common.signature(c, frm[1], rng.choice(["Referring Provider", "Signature of referring clinician"]))


FAX_TITLES = ["FAX COVER SHEET", "Fax Cover Sheet", "FACSIMILE TRANSMITTAL", "FAX", "Fax Transmission"]

NOTICE = ("CONFIDENTIALITY NOTICE: This facsimile contains confidential information that is legally "
          "privileged and intended only for the recipient named above. If you have received this "
          "transmission in error, please notify the sender by telephone immediately and destroy the "
          "documents.")


def build_fax(c):
    w, rng = c.w, c.rng
    pt = c.st.body_pt
    common.place_stickers(c)
    common.letterhead(c, org=rng.choice(words.CLINICS + words.HOSPITALS + words.OUTSIDE_LABS))
    common.title(c, FAX_TITLES, pt=rng.choice([18, 20, 24]))
    to = words.clinician(rng)
    frm = words.clinician(rng, False)
    c.decoys.update(["phone", "fax", "date"])
    to_fax = words.phone(rng, c.city[3])
    while to_fax == c.fax:
        to_fax = words.phone(rng, c.city[3])
    pairs = [("To:", rng.choice(["Medical Records", "Health Information Management", to[0]])),
             ("From:", frm[0]),
             ("Fax:", to_fax), ("Fax:", c.fax),
             ("Phone:", words.phone_plain(rng, c.city[3])), ("Phone:", c.tel),
             ("Date:", c.date()), ("Pages:", "%d (including cover)" % rng.randint(2, 9))]
    for i in range(0, len(pairs), 2):
        w.labelled_row([(pairs[i][0], pairs[i][1], 0.0), (pairs[i + 1][0], pairs[i + 1][1], 0.5)])
    re = rng.choice(["Requested records", "Lab results attached", "Imaging report as requested",
                     "Prior authorization", "Referral paperwork", "Consult note"])
    w.labelled_row([("Re:", re, 0.0)])
    w.gap(6)
    x, y = w.left, w.y
    for item in ["Urgent", "For Review", "Please Comment", "Please Reply"]:
        x += w.checkbox(x, y, pt, rng.random() < 0.3)
        x += w.text_at(x, y, item, pt) + w.px(16)
    w.y += w.line_h(pt) * 2
    w.text(rng.choice(["Comments:", "Message:", "Notes:"]), pt, True)
    w.para(rng.choice(["Please see the attached documents. Call with any questions.",
                       "Records sent per your request. Please confirm receipt.",
                       "Attached are the results discussed by phone today."]))
    w.gap(20)
    w.para(NOTICE, max(8, pt - 1))


LETTER_KINDS = ["appointment", "results", "records_request", "billing"]


def build_letter(c):
    w, rng = c.w, c.rng
    kind = rng.choice(LETTER_KINDS)
    common.place_stickers(c)
    common.letterhead(c)
    w.text(c.date())
    c.decoys.add("date")
    w.gap(8)
    names = []
    if kind in ("appointment", "results", "billing"):
        for s in (c.p.full, c.p.street, c.p.cityline):
            w.text(s)
        names.append(c.p.full)
        greet = "Dear %s %s," % ("Ms." if c.p.sex == "F" else "Mr.", c.p.last)
    else:
        w.text("%s Law Group LLP" % rng.choice(words.LAST_NAMES))
        w.text("%d %s, Suite %d" % (rng.randint(10, 999), rng.choice(words.STREETS), rng.randint(100, 900)))
        w.text(words.address(rng, rng.choice(words.CITIES))[1])
        greet = rng.choice(["To Whom It May Concern:", "Dear Records Custodian:"])
    w.gap(8)
    if kind == "records_request":
        w.labelled_row([("RE:", "Request for medical records - %s, DOB %s" % (c.p.full, c.p.dob.us()), 0.0)])
        names.append(c.p.full)
        w.labelled_row([("Our File No.:", "%s-%s" % (words.digits(rng, 4), words.digits(rng, 3)), 0.0)])
        body = ["Enclosed please find a signed authorization for release of information. We request "
                "complete copies of all records, including laboratory and radiology reports, for dates of "
                "service from %s to the present." % c.day.plus(-rng.randint(200, 1500)).long(),
                "Please forward the records to our office or call %s with any questions regarding fees."
                % words.phone(rng, c.city[3])]
    elif kind == "billing":
        w.labelled_row([(rng.choice(["Account #:", "Acct No."]), c.acct(), 0.0),
                        ("Statement Date:", c.date(), 0.5)])
        body = ["Our records show an outstanding balance of $%d.%02d for services provided on %s." %
                (rng.randint(20, 900), rng.randint(0, 99), c.day.plus(-rng.randint(20, 90)).long()),
                "If you have already sent payment, please disregard this notice. For questions about your "
                "bill call Patient Financial Services at %s." % c.tel]
    elif kind == "results":
        body = ["Your recent laboratory test results have been reviewed by your physician and are within "
                "normal limits. No changes to your treatment are needed at this time.",
                "Please keep your scheduled follow-up appointment. If you have questions, call %s." % c.tel]
    else:
        when = c.day.plus(rng.randint(3, 20))
        body = ["This letter confirms your appointment on %s at %d:%02d %s with %s in the %s clinic." %
                (when.long(), rng.randint(8, 11), rng.choice([0, 15, 30, 45]), "AM",
                 words.clinician(rng)[0], rng.choice(words.SPECIALTIES)),
                "Please arrive 15 minutes early and bring your insurance card and a list of your "
                "medications. To reschedule, call %s." % c.tel]
    c.decoys.update(["phone"])
    w.para(greet)
    w.gap(4)
    for b in body:
        w.para(b)
        w.gap(4)
    w.para(rng.choice(["Sincerely,", "Respectfully,", "Thank you,"]))
    who = words.clinician(rng, False)[1]
    common.signature(c, who)
    return names
