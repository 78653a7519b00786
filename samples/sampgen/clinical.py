"""Lab reports, radiology reports and discharge summaries."""

from . import common, words

# name, units, low, high, decimals
PANELS = {
    "COMPLETE BLOOD COUNT": [("WBC", "K/uL", 4.0, 11.0, 1), ("RBC", "M/uL", 4.2, 5.9, 2),
                             ("Hemoglobin", "g/dL", 12.0, 17.5, 1), ("Hematocrit", "%", 36, 52, 1),
                             ("MCV", "fL", 80, 100, 0), ("Platelets", "K/uL", 150, 400, 0)],
    "BASIC METABOLIC PANEL": [("Sodium", "mmol/L", 135, 145, 0), ("Potassium", "mmol/L", 3.5, 5.1, 1),
                              ("Chloride", "mmol/L", 98, 107, 0), ("CO2", "mmol/L", 22, 29, 0),
                              ("BUN", "mg/dL", 7, 20, 0), ("Creatinine", "mg/dL", 0.6, 1.3, 2),
                              ("Glucose", "mg/dL", 70, 99, 0), ("Calcium", "mg/dL", 8.6, 10.3, 1)],
    "HEPATIC FUNCTION PANEL": [("AST", "U/L", 10, 40, 0), ("ALT", "U/L", 7, 56, 0),
                               ("Alkaline Phosphatase", "U/L", 44, 147, 0),
                               ("Total Bilirubin", "mg/dL", 0.1, 1.2, 1), ("Albumin", "g/dL", 3.5, 5.0, 1),
                               ("Total Protein", "g/dL", 6.0, 8.3, 1)],
    "LIPID PANEL": [("Total Cholesterol", "mg/dL", 100, 199, 0), ("LDL Cholesterol", "mg/dL", 40, 99, 0),
                    ("HDL Cholesterol", "mg/dL", 40, 80, 0), ("Triglycerides", "mg/dL", 40, 149, 0)],
    "THYROID": [("TSH", "mIU/L", 0.4, 4.0, 2), ("Free T4", "ng/dL", 0.8, 1.8, 2)],
    "COAGULATION": [("Prothrombin Time", "sec", 11.0, 13.5, 1), ("INR", "", 0.8, 1.2, 1),
                    ("PTT", "sec", 25, 35, 0)],
    "CHEMISTRY, MISC": [("Hemoglobin A1c", "%", 4.0, 5.6, 1), ("C-Reactive Protein", "mg/L", 0, 10, 1),
                        ("Magnesium", "mg/dL", 1.7, 2.2, 1), ("Troponin I", "ng/mL", 0.0, 0.04, 2)],
}

LAB_TITLES = ["LABORATORY REPORT", "Laboratory Report", "CLINICAL LABORATORY REPORT",
              "Lab Results", "LABORATORY RESULTS - FINAL", "Cumulative Laboratory Summary",
              "Pathology & Laboratory Medicine - Final Report", "Test Results"]


def _value(rng, lo, hi, dec):
    r = rng.random()
    span = hi - lo
    if r < 0.15:
        v, flag = lo - span * rng.uniform(0.05, 0.3), "L"
    elif r < 0.3:
        v, flag = hi + span * rng.uniform(0.05, 0.5), "H"
    else:
        v, flag = rng.uniform(lo, hi), ""
    v = max(v, 0.0)
    return ("%.*f" % (dec, v)), flag


def build_lab(c):
    w, rng = c.w, c.rng
    outside = c.plan.get("outside") and rng.random() < 0.7
    common.place_stickers(c)
    common.letterhead(c, org=rng.choice(words.OUTSIDE_LABS) if outside else None,
                      extra_lines=["CLIA # %s" % ("%02dD%07d" % (rng.randint(10, 99), rng.randint(0, 9999999)))]
                      if rng.random() < 0.4 else ())
    common.title(c, LAB_TITLES)
    common.patient_block(c)
    ordering = words.clinician(rng)[0]
    c.decoys.update(["specimen", "accession", "date"])
    spec = words.specimen_id(rng, c.day.year)
    acc = words.accession(rng, c.day.year)
    coll = "%s %02d:%02d" % (c.date(), rng.randint(5, 20), rng.randint(0, 59))
    lines = [[(rng.choice(["Specimen ID:", "Specimen #:", "SPECIMEN:"]), spec, 0.0),
              (rng.choice(["Accession #:", "Accession No.", "Acc#:"]), acc, 0.5)],
             [(rng.choice(["Collected:", "Collection Date:", "Drawn:"]), coll, 0.0),
              (rng.choice(["Received:", "Rec'd:"]), c.date(c.day), 0.5)],
             [(rng.choice(["Ordering Physician:", "Ordered by:", "Provider:"]), ordering, 0.0)]]
    if rng.random() < 0.6:
        c.decoys.add("npi")
        lines[2].append(("NPI:", words.npi(rng), 0.6))
    if rng.random() < 0.5:
        c.decoys.add("order")
        lines.append([(rng.choice(["Order #:", "Order No.", "Req #:"]), words.order_no(rng), 0.0),
                      ("Source:", rng.choice(["Blood, venous", "Serum", "Plasma", "Whole blood"]), 0.5)])
    for ln in lines:
        w.labelled_row(ln)
    w.gap(6)
    head = rng.choice([["Test", "Result", "Flag", "Units", "Reference Range"],
                       ["Analyte", "Value", "Flag", "Units", "Ref. Range"],
                       ["Test Name", "Result", "Abn", "Units", "Reference Interval"],
                       ["TEST", "RESULT", "FLAG", "UNITS", "NORMAL RANGE"]])
    fracs = [0.0, 0.36, 0.52, 0.62, 0.78]
    border = rng.random() < 0.5
    names = rng.sample(sorted(PANELS), rng.randint(1, 3 if c.plan.get("long") else 2))
    for panel in names:
        w.ensure(w.line_h(c.st.body_pt) * 4)
        w.text(panel if rng.random() < 0.6 else panel.title(), c.st.body_pt, True)
        rows = []
        for name, units, lo, hi, dec in PANELS[panel]:
            v, flag = _value(rng, lo, hi, dec)
            rows.append([name, v, flag, units, "%.*f-%.*f" % (dec, lo, dec, hi)])
        w.table(head, rows, fracs, border=border, shade=border and rng.random() < 0.5)
    comments = ["Specimen slightly hemolyzed; potassium may be falsely elevated.",
                "Results called to and read back by the ordering nurse.",
                "Fasting status: not stated.",
                "Reference ranges apply to adults 18 years and older.",
                "Critical values were verified by repeat analysis."]
    w.text(rng.choice(["Comments:", "COMMENT:", "Notes:"]), c.st.body_pt, True)
    w.para(" ".join(rng.sample(comments, 2)))
    w.gap(4)
    w.text("Verified by: %s, MT(ASCP)   %s" % (words.clinician(rng, False)[1].split(",")[0], c.date()))
    if rng.random() < 0.5:
        w.text(rng.choice(["*** END OF REPORT ***", "-- Final Report --", "End of report"]),
               align="center")


EXAMS = [
    ("XR CHEST 2 VIEWS", "Cough and fever.", "PA and lateral views of the chest.",
     ["Lungs: Patchy opacity in the right lower lobe. No pleural effusion or pneumothorax.",
      "Heart and mediastinum: Cardiomediastinal silhouette is within normal limits.",
      "Bones: No acute osseous abnormality."],
     ["Right lower lobe opacity, compatible with pneumonia in the appropriate clinical setting.",
      "Follow-up radiograph in 6-8 weeks is suggested to document resolution."]),
    ("CT ABDOMEN AND PELVIS WITH IV CONTRAST", "Right lower quadrant pain.",
     "Axial images from the diaphragm to the pubic symphysis after 100 mL of IV contrast.",
     ["Appendix: Dilated to 11 mm with periappendiceal fat stranding. No abscess.",
      "Liver, spleen, pancreas and adrenal glands are unremarkable.",
      "Kidneys: No hydronephrosis or calculus.",
      "No free air. No lymphadenopathy."],
     ["Acute uncomplicated appendicitis.", "No abscess or perforation."]),
    ("MRI BRAIN WITHOUT CONTRAST", "Headache, dizziness.",
     "Multiplanar multisequence MR imaging of the brain without contrast.",
     ["No acute infarct on diffusion-weighted images.",
      "Scattered punctate T2/FLAIR hyperintensities in the periventricular white matter.",
      "Ventricles and sulci are proportionate. No mass effect or midline shift."],
     ["No acute intracranial abnormality.",
      "Mild chronic small vessel ischemic change."]),
    ("US RIGHT UPPER QUADRANT", "Epigastric pain after meals.",
     "Grayscale and color Doppler sonography of the right upper quadrant.",
     ["Gallbladder: Multiple mobile echogenic stones, largest 1.4 cm. Wall thickness 2 mm.",
      "Common bile duct measures 4 mm.",
      "Liver: Normal echotexture. No focal lesion."],
     ["Cholelithiasis without sonographic evidence of acute cholecystitis."]),
    ("CT HEAD WITHOUT CONTRAST", "Fall with head strike.",
     "Contiguous axial images of the head without contrast.",
     ["No intracranial hemorrhage, mass or acute territorial infarct.",
      "Gray-white differentiation is preserved.",
      "Small left frontal scalp hematoma. Calvarium intact."],
     ["No acute intracranial process.", "Left frontal scalp hematoma without fracture."]),
    ("XR LEFT WRIST 3 VIEWS", "Fall on outstretched hand.", "Three views of the left wrist.",
     ["Nondisplaced transverse fracture of the distal radial metaphysis.",
      "Carpal alignment is maintained. No dislocation."],
     ["Nondisplaced distal radius fracture."]),
    ("MAMMOGRAM SCREENING BILATERAL", "Routine screening.", "Bilateral CC and MLO views with tomosynthesis.",
     ["The breasts are heterogeneously dense.",
      "No suspicious mass, calcification or architectural distortion."],
     ["BI-RADS 1: Negative. Routine annual screening recommended."]),
]

RAD_TITLES = ["RADIOLOGY REPORT", "Radiology Report", "DIAGNOSTIC IMAGING REPORT",
              "Imaging Report", "Final Report", "RADIOLOGY CONSULTATION", "Medical Imaging - Final Result"]


def build_radiology(c):
    w, rng = c.w, c.rng
    common.place_stickers(c)
    common.letterhead(c)
    common.title(c, RAD_TITLES)
    common.patient_block(c)
    exam = rng.choice(EXAMS)
    c.decoys.update(["accession", "date"])
    rows = [[("Exam:", exam[0], 0.0)],
            [(rng.choice(["Accession #:", "Accession:", "ACC #"]), words.accession(rng, c.day.year), 0.0),
             (rng.choice(["Exam Date:", "Date of Service:", "DOS:"]), c.date(), 0.5)],
            [("Ordering:", words.clinician(rng)[0], 0.0),
             ("Location:", rng.choice(["ED", "Outpatient", "4 West", "ICU", "Imaging Center"]), 0.5)]]
    if rng.random() < 0.4:
        c.decoys.add("order")
        rows.append([("Order #:", words.order_no(rng), 0.0)])
    for r in rows:
        w.labelled_row(r)
    w.gap(6)
    pt = c.st.body_pt
    heads = rng.choice([("CLINICAL HISTORY:", "TECHNIQUE:", "COMPARISON:", "FINDINGS:", "IMPRESSION:"),
                        ("Indication:", "Technique:", "Comparison:", "Findings:", "Impression:"),
                        ("HISTORY:", "PROCEDURE:", "PRIOR STUDIES:", "FINDINGS:", "CONCLUSION:"),
                        ("Reason for exam:", "Technique:", "Comparison:", "Findings:", "Impression:")])
    w.text(heads[0], pt, True)
    w.para(exam[1])
    w.text(heads[1], pt, True)
    w.para(exam[2])
    w.text(heads[2], pt, True)
    w.para(rng.choice(["None available.", "Prior study dated %s." % c.date(c.day.plus(-rng.randint(30, 900))),
                       "No prior imaging for comparison."]))
    w.text(heads[3], pt, True)
    for f in exam[3]:
        w.para(f)
    w.gap(4)
    w.text(heads[4], pt, True)
    for i, s in enumerate(exam[4]):
        w.para("%d. %s" % (i + 1, s) if len(exam[4]) > 1 else s)
    w.gap(8)
    rad = words.clinician(rng, physician=True)
    w.text("%s %s" % (rng.choice(["Electronically signed by:", "Signed:", "Reading radiologist:"]),
                      rad[1]))
    w.text("%s %s %02d:%02d" % (rng.choice(["Signed on", "Date/Time:", "Finalized"]), c.date(),
                                rng.randint(7, 22), rng.randint(0, 59)))


DIAGNOSES = [
    "Community-acquired pneumonia", "Acute exacerbation of congestive heart failure",
    "COPD exacerbation", "Cellulitis of the left lower extremity", "Acute pyelonephritis",
    "Diabetic ketoacidosis", "Atrial fibrillation with rapid ventricular response",
    "Small bowel obstruction", "Acute cholecystitis", "Non-ST elevation myocardial infarction",
    "Acute kidney injury", "Hyponatremia", "Upper gastrointestinal bleed",
]

COURSE = [
    "The patient was admitted to the medical floor and started on intravenous fluids.",
    "Empiric antibiotics were begun after blood cultures were drawn; cultures remained negative at 48 hours.",
    "Cardiology was consulted and recommended continuation of beta blockade with uptitration as tolerated.",
    "Serial troponins peaked on hospital day two and trended down thereafter.",
    "Renal function improved with hydration and holding of nephrotoxic agents.",
    "The patient was diuresed with intravenous furosemide with a net negative balance of four liters.",
    "Physical therapy evaluated the patient and cleared the patient for discharge home with a walker.",
    "Pain was controlled with acetaminophen and short courses of oral opioids.",
    "Blood glucose was managed with basal-bolus insulin and the home regimen was adjusted.",
    "A chest radiograph on the day of discharge showed interval improvement.",
    "The patient tolerated a regular diet by hospital day three.",
    "Electrolytes were repleted as needed and remained stable for 24 hours before discharge.",
    "Home medications were reconciled and reviewed with the patient and family.",
    "Oxygen was weaned to room air with saturations above 92 percent at rest and with ambulation.",
    "General surgery followed along and no operative intervention was required.",
    "The patient remained afebrile for more than 48 hours prior to discharge.",
    "Case management arranged home health nursing visits twice weekly.",
    "Repeat laboratory studies showed a downtrending white blood cell count.",
    "Anticoagulation was discussed at length and the patient elected to start apixaban.",
    "The patient was monitored on telemetry without further arrhythmia.",
]

MEDS = ["Lisinopril 10 mg by mouth daily", "Metoprolol succinate 50 mg by mouth daily",
        "Atorvastatin 40 mg by mouth nightly", "Furosemide 40 mg by mouth daily",
        "Amoxicillin-clavulanate 875 mg by mouth twice daily for 5 more days",
        "Metformin 1000 mg by mouth twice daily", "Apixaban 5 mg by mouth twice daily",
        "Pantoprazole 40 mg by mouth daily", "Acetaminophen 650 mg every 6 hours as needed for pain",
        "Insulin glargine 22 units subcutaneously at bedtime", "Tamsulosin 0.4 mg by mouth daily",
        "Albuterol inhaler 2 puffs every 4 hours as needed", "Prednisone 40 mg daily for 3 more days"]

DS_TITLES = ["DISCHARGE SUMMARY", "Discharge Summary", "HOSPITAL DISCHARGE SUMMARY",
             "Discharge Summary / Transfer of Care", "Inpatient Discharge Summary", "DISCHARGE NOTE"]


def build_discharge(c):
    w, rng = c.w, c.rng
    pt = c.st.body_pt
    common.place_stickers(c)
    common.letterhead(c)
    common.title(c, DS_TITLES)
    adm = c.day.plus(-rng.randint(2, 12))
    dis = adm.plus(rng.randint(2, 9))
    att = words.clinician(rng, physician=True)
    common.patient_block(c, extra=[("Admitted:", c.date(adm)), ("Discharged:", c.date(dis)),
                                   ("Attending:", att[0])])
    c.decoys.add("date")
    dx = rng.sample(DIAGNOSES, 4)
    heads = rng.choice([("Admitting Diagnosis:", "Discharge Diagnosis:", "Hospital Course:"),
                        ("ADMISSION DIAGNOSIS:", "DISCHARGE DIAGNOSES:", "HOSPITAL COURSE:"),
                        ("Reason for Admission:", "Final Diagnoses:", "Brief Hospital Course:"),
                        ("Chief Complaint:", "Principal Diagnosis:", "Course in Hospital:")])
    w.text(heads[0], pt, True)
    w.para(dx[0])
    w.text(heads[1], pt, True)
    for i, d in enumerate(dx[:rng.randint(2, 4)]):
        w.para("%d. %s" % (i + 1, d), indent_pt=8)
    if rng.random() < 0.6:
        w.text(rng.choice(["Procedures:", "PROCEDURES PERFORMED:"]), pt, True)
        w.para(rng.choice(["None.", "Transthoracic echocardiogram.", "CT abdomen and pelvis with contrast.",
                           "Laparoscopic cholecystectomy.", "Esophagogastroduodenoscopy."]))
    w.text(heads[2], pt, True)
    target = c.plan.get("target_pages", 2)
    n = 0
    while n < 24 and (len(w.pages) < target or n < 3):
        w.para(" ".join(rng.sample(COURSE, rng.randint(3, 6))))
        w.gap(3)
        n += 1
    w.text(rng.choice(["Pertinent Results:", "LABS/IMAGING:"]), pt, True)
    w.para("Sodium %d, potassium %.1f, creatinine %.1f, hemoglobin %.1f, WBC %.1f on the day of discharge."
           % (rng.randint(132, 144), rng.uniform(3.4, 5.0), rng.uniform(0.6, 2.1),
              rng.uniform(8.5, 15.0), rng.uniform(4.0, 13.0)))
    w.text(rng.choice(["Discharge Medications:", "MEDICATIONS AT DISCHARGE:", "Medication List:"]), pt, True)
    for m in rng.sample(MEDS, rng.randint(4, 8)):
        w.para("- " + m, indent_pt=8)
    w.text(rng.choice(["Condition at Discharge:", "CONDITION:"]), pt, True)
    w.para(rng.choice(["Stable.", "Good, ambulating independently.", "Fair; improved from admission."]))
    w.text(rng.choice(["Disposition:", "Discharged to:"]), pt, True)
    w.para(rng.choice(["Home with self-care.", "Home with home health services.",
                       "Skilled nursing facility.", "Home with family."]))
    w.text(rng.choice(["Follow-up:", "FOLLOW-UP APPOINTMENTS:"]), pt, True)
    pcp = words.clinician(rng)
    c.decoys.add("phone")
    w.para("%s (primary care) in 1 week, call %s. %s clinic in 2-4 weeks." %
           (pcp[0], words.phone(rng, c.city[3]), rng.choice(words.SPECIALTIES)))
    w.text(rng.choice(["Diet / Activity:", "Instructions:"]), pt, True)
    w.para(rng.choice(["Low sodium diet. Activity as tolerated.",
                       "Carbohydrate-controlled diet. No lifting over 10 pounds for 2 weeks.",
                       "Regular diet. Return to the emergency department for fever, chest pain or shortness of breath."]))
    common.signature(c, att[1], rng.choice(["Attending Physician", "Dictated by", "Electronically signed"]))
