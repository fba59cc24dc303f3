# Reference numbers from R for the figures' statistics (tests/test_competing.py):
# Gray's test (cmprsk::cuminc) and the numbers at risk, events and censored under a curve
# (summary.survfit at chosen times). Regenerate:
#   apt-get install -y r-base-core r-cran-survival r-cran-cmprsk
#   cd tests/r_reference && Rscript figs.R > figs_output.txt
# Reads data/mgus2_cr.csv and data/lung.csv (written by reference.R); writes data/pbc_cr.csv,
# data/ties_cr.csv and figs_values.json.
suppressMessages(library(survival))
suppressMessages(library(cmprsk))
values <- list()
put <- function(key, value) values[[key]] <<- value
cat("R:", R.version.string, "\ncmprsk:", as.character(packageVersion("cmprsk")), "\n\n")
put("meta.cmprsk_version", as.character(packageVersion("cmprsk")))

gray <- function(name, time, status, group, rho = 0) {
  fit <- cuminc(time, status, group, rho = rho, cencode = 0)
  cat(name, "rho =", rho, "\n"); print(fit$Tests)
  for (cause in rownames(fit$Tests)) {
    put(sprintf("%s.rho%g.cause%s.stat", name, rho, cause), fit$Tests[cause, "stat"])
    put(sprintf("%s.rho%g.cause%s.p", name, rho, cause), fit$Tests[cause, "pv"])
    put(sprintf("%s.rho%g.cause%s.df", name, rho, cause), fit$Tests[cause, "df"])
  }
}

# survival::mgus2, progression (1) or death (2) first, by sex (reference.R's data set).
mg <- read.csv("data/mgus2_cr.csv")
gray("mgus2", mg$etime, mg$event, mg$sex)
gray("mgus2", mg$etime, mg$event, mg$sex, rho = 1)

# survival::pbc, randomised patients: transplant (1) and death (2), by treatment arm.
pbc2 <- pbc[!is.na(pbc$trt), c("id", "time", "status", "trt")]
write.csv(pbc2, "data/pbc_cr.csv", row.names = FALSE)
gray("pbc", pbc2$time, pbc2$status, pbc2$trt)

# Made up: three groups, ties of events, competing events and censorings at the same times.
ties <- data.frame(time = c(1, 1, 1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 6, 6, 7, 8, 8, 9, 10, 10, 10, 11, 12, 12),
                   status = c(1, 1, 2, 0, 1, 2, 2, 1, 0, 1, 1, 0, 2, 1, 1, 0, 2, 1, 1, 2, 0, 1, 0, 1),
                   group = rep(c("a", "b", "c"), 8))
write.csv(ties, "data/ties_cr.csv", row.names = FALSE)
gray("ties", ties$time, ties$status, ties$group)

# Singular: the only event of cause 1 comes after everyone of the other group has died (cmprsk's
# sentinel: stat -1, p 1; the Python function says it is not defined).
gray("singular", c(5, 6, 1, 2), c(1, 0, 2, 2), c("a", "a", "b", "b"))

# Numbers under a Kaplan-Meier curve: survival::lung by sex at 0, 6, 12, 18 and 24 months.
lung <- read.csv("data/lung.csv")
days <- c(0, 6, 12, 18, 24) * 365.25 / 12
for (s in 1:2) {
  fit <- survfit(Surv(time, status) ~ 1, data = lung[lung$sex == s, ])
  sm <- summary(fit, times = days, extend = TRUE)
  print(data.frame(time = sm$time, n.risk = sm$n.risk, events = cumsum(sm$n.event), censored = cumsum(sm$n.censor)))
  put(sprintf("lung.sex%d.n_risk", s), paste(sm$n.risk, collapse = " "))
  put(sprintf("lung.sex%d.events", s), paste(cumsum(sm$n.event), collapse = " "))
  put(sprintf("lung.sex%d.censored", s), paste(cumsum(sm$n.censor), collapse = " "))
}

keys <- names(values)
fmt <- function(v) if (is.character(v)) paste0('"', v, '"') else sprintf("%.15g", v)
lines <- sprintf('  "%s": %s', keys, vapply(keys, function(k) fmt(values[[k]]), ""))
writeLines(c("{", paste(lines, collapse = ",\n"), "}"), "figs_values.json")
