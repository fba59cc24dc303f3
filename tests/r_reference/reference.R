# Reference numbers from R for tests/test_against_r.py.
# Regenerate (R is a validation tool, not part of the default setup):
#   apt-get install -y r-base-core r-cran-survival
#   cd tests/r_reference && Rscript reference.R > reference_output.txt
# Writes data/*.csv (R's own published data sets) and reference_values.json.
suppressMessages(library(survival))
values <- list()
put <- function(key, value) values[[key]] <<- value

cat("R:", R.version.string, "\nsurvival:", as.character(packageVersion("survival")), "\n\n")
put("meta.r_version", R.version.string)
put("meta.survival_version", as.character(packageVersion("survival")))

# NCCTG lung cancer (survival::lung); status recoded 1 = dead, 0 = censored.
lung2 <- data.frame(time = lung$time, status = as.integer(lung$status == 2), sex = lung$sex, age = lung$age)
write.csv(lung2, "data/lung.csv", row.names = FALSE)
fit <- survfit(Surv(time, status) ~ sex, data = lung2)   # conf.type = "log", R's default
s <- summary(fit, times = c(365, 730))
print(s)
for (i in seq_along(s$time)) {
  g <- sub("sex=", "", as.character(s$strata[i]))
  k <- paste0("lung.sex", g, ".t", s$time[i])
  put(paste0(k, ".surv"), s$surv[i]); put(paste0(k, ".std_err"), s$std.err[i])
  put(paste0(k, ".lower"), s$lower[i]); put(paste0(k, ".upper"), s$upper[i]); put(paste0(k, ".n_risk"), s$n.risk[i])
}
tab <- summary(fit, rmean = 730)$table
print(tab)
for (g in 1:2) {
  put(paste0("lung.sex", g, ".median"), unname(tab[g, "median"]))
  put(paste0("lung.sex", g, ".median_lower"), unname(tab[g, "0.95LCL"]))
  put(paste0("lung.sex", g, ".median_upper"), unname(tab[g, "0.95UCL"]))
  put(paste0("lung.sex", g, ".rmst730"), unname(tab[g, "rmean"]))
  put(paste0("lung.sex", g, ".rmst730_se"), unname(tab[g, "se(rmean)"]))
}
lr <- survdiff(Surv(time, status) ~ sex, data = lung2)
print(lr)
put("lung.logrank.chisq", lr$chisq); put("lung.logrank.p", pchisq(lr$chisq, 1, lower.tail = FALSE))
cox <- coxph(Surv(time, status) ~ sex, data = lung2, ties = "efron")
print(summary(cox))
cs <- summary(cox)
put("lung.cox.coef", unname(coef(cox))); put("lung.cox.hr", unname(exp(coef(cox))))
put("lung.cox.se", unname(cs$coefficients[1, "se(coef)"])); put("lung.cox.p", unname(cs$coefficients[1, "Pr(>|z|)"]))
put("lung.cox.lower", unname(cs$conf.int[1, "lower .95"])); put("lung.cox.upper", unname(cs$conf.int[1, "upper .95"]))
put("lung.cox.lr_chisq", unname(cs$logtest["test"])); put("lung.cox.lr_p", unname(cs$logtest["pvalue"]))

# aml (survival::aml): small KM and log-rank.
write.csv(data.frame(time = aml$time, status = aml$status, x = as.character(aml$x)), "data/aml.csv", row.names = FALSE)
lr2 <- survdiff(Surv(time, status) ~ x, data = aml)
print(lr2)
put("aml.logrank.chisq", lr2$chisq); put("aml.logrank.p", pchisq(lr2$chisq, 1, lower.tail = FALSE))

# Competing risks, survival::mgus2 as in the "compete" vignette: progression (pcm) or death first.
etime <- with(mgus2, ifelse(pstat == 1, ptime, futime))
event <- with(mgus2, ifelse(pstat == 1, 1L, 2L * death))
mg <- data.frame(id = mgus2$id, etime = etime, event = event, sex = mgus2$sex)
write.csv(mg, "data/mgus2_cr.csv", row.names = FALSE)
aj <- survfit(Surv(etime, factor(event, 0:2, labels = c("censor", "pcm", "death"))) ~ 1, data = mg)
# 424 is the last follow-up, 500 is past it (extend = TRUE carries the estimate, n at risk 0).
sa <- summary(aj, times = c(60, 120, 240, 424, 500), extend = TRUE)
print(sa)
for (i in seq_along(sa$time)) {
  for (state in c("pcm", "death")) {
    j <- which(aj$states == state)
    k <- paste0("mgus2.cif_", state, ".t", sa$time[i])
    put(k, sa$pstate[i, j]); put(paste0(k, ".std_err"), sa$std.err[i, j])
    put(paste0(k, ".lower"), sa$lower[i, j]); put(paste0(k, ".upper"), sa$upper[i, j])
    put(paste0(k, ".n_risk"), sa$n.risk[i, 1])
  }
}

# Kaplan-Meier landmarks past the last follow-up (extend = TRUE) and on a curve that reaches 0
# (aml Nonmaintained: last time 45 is a death): R gives S = 0, std.err NaN, limits NA.
landmark <- function(key, data, times) {
  s <- summary(survfit(Surv(time, status) ~ 1, data = data), times = times, extend = TRUE)
  print(s)
  for (i in seq_along(s$time)) {
    k <- paste0(key, ".t", s$time[i])
    put(paste0(k, ".surv"), s$surv[i]); put(paste0(k, ".std_err"), s$std.err[i])
    put(paste0(k, ".lower"), s$lower[i]); put(paste0(k, ".upper"), s$upper[i])
    put(paste0(k, ".n_risk"), s$n.risk[i])
  }
}
landmark("lung.sex1.landmark", lung2[lung2$sex == 1, ], c(1100, 2000))
landmark("aml.nonmaintained.landmark", aml[aml$x == "Nonmaintained", ], c(40, 45, 60))

# Fisher's exact test and odds ratio (two-sided), 2x2 as [[events, non-events] per arm].
for (tab in list(c(9, 30, 2, 37), c(1, 38, 6, 33), c(3, 1, 1, 3))) {
  m <- matrix(tab, nrow = 2, byrow = TRUE)
  f <- fisher.test(m)
  k <- paste0("fisher.", paste(tab, collapse = "_"))
  put(paste0(k, ".p"), f$p.value); put(paste0(k, ".or"), unname(f$estimate))
  put(paste0(k, ".lower"), f$conf.int[1]); put(paste0(k, ".upper"), f$conf.int[2])
}
m <- matrix(c(9, 30, 2, 37), nrow = 2, byrow = TRUE)
put("chisq.9_30_2_37.p", chisq.test(m, correct = FALSE)$p.value)
put("chisq_yates.9_30_2_37.p", chisq.test(m, correct = TRUE)$p.value)

# Wilcoxon on lung age by sex (normal approximation with continuity correction: ties).
w <- suppressWarnings(wilcox.test(age ~ sex, data = lung2))
print(w)
put("lung.age_by_sex.wilcox.W", unname(w$statistic)); put("lung.age_by_sex.wilcox.p", w$p.value)
tt <- t.test(age ~ sex, data = lung2)
put("lung.age_by_sex.welch.t", unname(tt$statistic)); put("lung.age_by_sex.welch.df", unname(tt$parameter))
put("lung.age_by_sex.welch.p", tt$p.value)

# Poisson and negative binomial rate ratios on a small made-up count data set.
rates <- data.frame(arm = rep(c(1, 0), each = 6), count = c(0, 0, 5, 1, 0, 8, 10, 1, 12, 0, 7, 2),
                    pyears = c(1.5, 2, 1, 2, 2, 0.5, 2, 1, 2, 1.5, 2, 1))
write.csv(rates, "data/rates.csv", row.names = FALSE)
po <- glm(count ~ arm + offset(log(pyears)), family = poisson, data = rates)
print(summary(po))
ci <- confint.default(po)
put("rates.poisson.rr", exp(unname(coef(po)["arm"]))); put("rates.poisson.p", summary(po)$coefficients["arm", 4])
put("rates.poisson.lower", exp(ci["arm", 1])); put("rates.poisson.upper", exp(ci["arm", 2]))
if (requireNamespace("MASS", quietly = TRUE)) {
  nb <- MASS::glm.nb(count ~ arm + offset(log(pyears)), data = rates)
  print(summary(nb))
  put("rates.nb.rr", exp(unname(coef(nb)["arm"]))); put("rates.nb.theta", nb$theta)
  put("rates.nb.p", summary(nb)$coefficients["arm", 4])
}

# JSON by hand (jsonlite is not among Debian's base R packages here).
keys <- sort(names(values))
fmt <- function(v) if (is.character(v)) paste0('"', v, '"') else if (is.na(v)) "null" else sprintf("%.15g", v)
lines <- sprintf('  "%s": %s', keys, vapply(keys, function(k) fmt(values[[k]]), ""))
writeLines(c("{", paste(lines, collapse = ",\n"), "}"), "reference_values.json")
