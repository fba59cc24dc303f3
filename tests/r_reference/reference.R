# Reference numbers from R for tests/test_against_r.py.
# Regenerate (R is a validation tool, not part of the default setup):
#   apt-get install -y r-base-core r-cran-survival r-cran-mass r-cran-sandwich r-cran-quantreg
#   cd tests/r_reference && Rscript reference.R > reference_output.txt
# Writes data/*.csv (R's own published data sets) and reference_values.json.
suppressMessages(library(survival))
values <- list()
put <- function(key, value) values[[key]] <<- value

cat("R:", R.version.string, "\nsurvival:", as.character(packageVersion("survival")), "\n\n")
put("meta.r_version", R.version.string)
put("meta.survival_version", as.character(packageVersion("survival")))

# NCCTG lung cancer (survival::lung); status recoded 1 = dead, 0 = censored.
lung2 <- data.frame(time = lung$time, status = as.integer(lung$status == 2), sex = lung$sex, age = lung$age,
                    ph.ecog = lung$ph.ecog)
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
put("lung.cox.score_chisq", unname(cs$sctest["test"])); put("lung.cox.score_p", unname(cs$sctest["pvalue"]))
put("lung.cox.wald_chisq", unname(cox$wald.test)); put("lung.cox.wald_p", pchisq(cox$wald.test, 1, lower.tail = FALSE))

# Cox models to convergence: coxph's own criterion (relative change in the log partial
# likelihood < 1e-9) is tightened so R's coefficient is the maximum to machine precision.
tight <- coxph.control(eps = 1e-14, toler.chol = 1e-15, iter.max = 100)
cox_values <- function(key, fit, term) {
  cs <- summary(fit)
  put(paste0(key, ".coef"), unname(coef(fit)[term])); put(paste0(key, ".hr"), unname(exp(coef(fit)[term])))
  put(paste0(key, ".se"), unname(sqrt(diag(vcov(fit)))[term]))
  put(paste0(key, ".p"), unname(cs$coefficients[term, "Pr(>|z|)"]))
  put(paste0(key, ".lower"), unname(cs$conf.int[term, "lower .95"]))
  put(paste0(key, ".upper"), unname(cs$conf.int[term, "upper .95"]))
  put(paste0(key, ".lr_chisq"), unname(cs$logtest["test"])); put(paste0(key, ".lr_p"), unname(cs$logtest["pvalue"]))
  put(paste0(key, ".score_chisq"), unname(cs$sctest["test"])); put(paste0(key, ".score_p"), unname(cs$sctest["pvalue"]))
  put(paste0(key, ".wald_chisq"), unname(fit$wald.test))
  put(paste0(key, ".wald_p"), pchisq(fit$wald.test, length(coef(fit)), lower.tail = FALSE))
}
# survival::veteran: the two-arm trial of 137 patients with 128 deaths the issue cites.
write.csv(veteran, "data/veteran.csv", row.names = FALSE)
vet <- coxph(Surv(time, status) ~ trt, data = veteran, control = tight)
print(summary(vet), digits = 10)
cox_values("veteran.cox", vet, "trt")
lr3 <- survdiff(Surv(time, status) ~ trt, data = veteran)
put("veteran.logrank.chisq", lr3$chisq); put("veteran.logrank.p", pchisq(lr3$chisq, 1, lower.tail = FALSE))
# Adjusted and IPTW Cox on lung (complete ph.ecog): female + age + ph.ecog; stabilised ATE
# weights from a logistic propensity of female on age and ph.ecog, weighted coxph, robust SE.
lc <- lung2[!is.na(lung2$ph.ecog), ]
lc$female <- as.integer(lc$sex == 2)
adj <- coxph(Surv(time, status) ~ female + age + ph.ecog, data = lc, control = tight)
print(summary(adj), digits = 10)
cox_values("lung.cox_adjusted", adj, "female")
ps <- glm(female ~ age + ph.ecog, family = binomial, data = lc, control = glm.control(epsilon = 1e-14, maxit = 100))
print(summary(ps))
score <- fitted(ps)
lc$w <- ifelse(lc$female == 1, mean(lc$female) / score, (1 - mean(lc$female)) / (1 - score))
for (i in c(1, 2, nrow(lc))) put(paste0("lung.iptw.weight.row", i), lc$w[i])
iptw <- coxph(Surv(time, status) ~ female, data = lc, weights = w, robust = TRUE, control = tight)
print(summary(iptw), digits = 10)
put("lung.cox_iptw.coef", unname(coef(iptw))); put("lung.cox_iptw.robust_se", unname(sqrt(vcov(iptw))))
put("lung.cox_iptw.p", unname(summary(iptw)$coefficients[1, "Pr(>|z|)"]))
put("lung.cox_iptw.lower", unname(summary(iptw)$conf.int[1, "lower .95"]))
put("lung.cox_iptw.upper", unname(summary(iptw)$conf.int[1, "upper .95"]))

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
# fisher.test finds the conditional MLE and its limits with uniroot at its default tolerance
# (eps^0.25 = 1.2e-4); the same function with uniroot's tol at 1e-13 gives them to precision.
fisher_tight <- fisher.test
environment(fisher_tight) <- list2env(list(uniroot = function(...) stats::uniroot(..., tol = 1e-13)),
                                      parent = environment(fisher.test))
for (tab in list(c(9, 30, 2, 37), c(1, 38, 6, 33), c(3, 1, 1, 3))) {
  m <- matrix(tab, nrow = 2, byrow = TRUE)
  f <- fisher_tight(m)
  print(f)
  k <- paste0("fisher.", paste(tab, collapse = "_"))
  put(paste0(k, ".p"), f$p.value); put(paste0(k, ".or"), unname(f$estimate))
  put(paste0(k, ".lower"), f$conf.int[1]); put(paste0(k, ".upper"), f$conf.int[2])
}
m <- matrix(c(9, 30, 2, 37), nrow = 2, byrow = TRUE)
put("chisq.9_30_2_37.p", chisq.test(m, correct = FALSE)$p.value)
put("chisq_yates.9_30_2_37.p", chisq.test(m, correct = TRUE)$p.value)
put("chisq.9_30_2_37.statistic", unname(chisq.test(m, correct = FALSE)$statistic))
put("chisq_yates.9_30_2_37.statistic", unname(chisq.test(m, correct = TRUE)$statistic))
# Wilson score intervals (prop.test without continuity correction) and Newcombe's hybrid
# score interval for the difference (method 10), by its formula from the Wilson limits.
for (tab in list(c(9, 39, 2, 39), c(0, 20, 5, 21))) {
  k <- paste0("wilson.", paste(tab, collapse = "_"))
  w1 <- prop.test(tab[1], tab[2], correct = FALSE)$conf.int; w2 <- prop.test(tab[3], tab[4], correct = FALSE)$conf.int
  p1 <- tab[1] / tab[2]; p2 <- tab[3] / tab[4]
  put(paste0(k, ".t.lower"), w1[1]); put(paste0(k, ".t.upper"), w1[2])
  put(paste0(k, ".c.lower"), w2[1]); put(paste0(k, ".c.upper"), w2[2])
  put(paste0(k, ".newcombe.lower"), p1 - p2 - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2))
  put(paste0(k, ".newcombe.upper"), p1 - p2 + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2))
}

# Wilcoxon on lung age by sex (normal approximation with continuity correction: ties).
w <- suppressWarnings(wilcox.test(age ~ sex, data = lung2))
print(w)
put("lung.age_by_sex.wilcox.W", unname(w$statistic)); put("lung.age_by_sex.wilcox.p", w$p.value)
tt <- t.test(age ~ sex, data = lung2)
put("lung.age_by_sex.welch.t", unname(tt$statistic)); put("lung.age_by_sex.welch.df", unname(tt$parameter))
put("lung.age_by_sex.welch.p", tt$p.value)

# Rank tests at recorded precision (digits.rank = 7) on survival::pbcseq albumin (g/dL, 2
# decimals): baseline (day 0) and the first visit from day 300, per patient. The same values
# x10 (g/L) must give the same p; without digits.rank R's own p moves (printed below).
pb <- merge(pbcseq[pbcseq$day == 0, c("id", "trt", "albumin")],
            (function(v) v[!duplicated(v$id), c("id", "albumin")])(pbcseq[pbcseq$day >= 300, ]),
            by = "id", suffixes = c("0", "1"))
write.csv(pb, "data/pbcseq_albumin.csv", row.names = FALSE)
cat("\npbcseq albumin pairs:", nrow(pb), "\n")
wil <- function(...) suppressWarnings(wilcox.test(..., digits.rank = 7))
w <- wil(pb$albumin1, pb$albumin0, paired = TRUE)
print(w)
put("pbc.signrank.approx.V", unname(w$statistic)); put("pbc.signrank.approx.p", w$p.value)
cat("g/L without digits.rank:", suppressWarnings(wilcox.test(pb$albumin1 * 10, pb$albumin0 * 10, paired = TRUE))$p.value,
    "with:", wil(pb$albumin1 * 10, pb$albumin0 * 10, paired = TRUE)$p.value, "\n")
tp <- t.test(pb$albumin1, pb$albumin0, paired = TRUE)
put("pbc.paired_t.t", unname(tp$statistic)); put("pbc.paired_t.df", unname(tp$parameter)); put("pbc.paired_t.p", tp$p.value)
put("pbc.paired_t.lower", tp$conf.int[1]); put("pbc.paired_t.upper", tp$conf.int[2])
# Exact signed-rank: the first 20 pairs whose differences are nonzero and untied at 7 digits.
d <- pb$albumin1 - pb$albumin0
exact_rows <- head(which(d != 0 & !duplicated(abs(signif(d, 7)))), 20)
put("pbc.signrank.exact.rows", paste(exact_rows, collapse = " "))
w <- wil(pb$albumin1[exact_rows], pb$albumin0[exact_rows], paired = TRUE)
print(w)
put("pbc.signrank.exact.V", unname(w$statistic)); put("pbc.signrank.exact.p", w$p.value)
# Mann-Whitney with the Hodges-Lehmann shift and R's interval, baseline albumin by arm:
# approximate (ties, n >= 50) and exact (the first 15 per arm of values untied at 7 digits).
hl <- function(key, x, y) {
  w <- wil(x, y, conf.int = TRUE)
  print(w)
  put(paste0(key, ".W"), unname(w$statistic)); put(paste0(key, ".p"), w$p.value)
  put(paste0(key, ".estimate"), unname(w$estimate))
  put(paste0(key, ".lower"), w$conf.int[1]); put(paste0(key, ".upper"), w$conf.int[2])
}
a1 <- pb$albumin0[pb$trt == 1]; a0 <- pb$albumin0[pb$trt == 0]
hl("pbc.ranksum.approx", a1, a0)
hl("pbc.ranksum.approx_gl", a1 * 10, a0 * 10)
untied <- !duplicated(signif(pb$albumin0, 7))
e1 <- head(pb$albumin0[untied & pb$trt == 1], 15); e0 <- head(pb$albumin0[untied & pb$trt == 0], 15)
put("pbc.ranksum.exact.x", paste(e1, collapse = " ")); put("pbc.ranksum.exact.y", paste(e0, collapse = " "))
hl("pbc.ranksum.exact", e1, e0)
hl("lung.age_by_sex.hl", lung2$age[lung2$sex == 1], lung2$age[lung2$sex == 2])
# Student and Welch t on baseline albumin by arm.
ts <- t.test(a1, a0, var.equal = TRUE); tw <- t.test(a1, a0)
put("pbc.student.t", unname(ts$statistic)); put("pbc.student.p", ts$p.value)
put("pbc.student.lower", ts$conf.int[1]); put("pbc.student.upper", ts$conf.int[2])
put("pbc.welch.t", unname(tw$statistic)); put("pbc.welch.df", unname(tw$parameter)); put("pbc.welch.p", tw$p.value)
put("pbc.welch.lower", tw$conf.int[1]); put("pbc.welch.upper", tw$conf.int[2])
# Kruskal-Wallis (Table 1) on the values at 7 significant digits: by arm, and by stage (4 groups).
kw <- kruskal.test(signif(albumin0, 7) ~ trt, data = pb)
put("pbc.kruskal.trt.p", kw$p.value)
st <- merge(pb, pbcseq[pbcseq$day == 0, c("id", "stage")], by = "id")
write.csv(st[, c("id", "stage", "albumin0")], "data/pbcseq_stage.csv", row.names = FALSE)
kw <- kruskal.test(signif(albumin0, 7) ~ stage, data = st)
print(kw)
put("pbc.kruskal.stage.statistic", unname(kw$statistic)); put("pbc.kruskal.stage.p", kw$p.value)

# Poisson and negative binomial rate ratios on a small made-up count data set.
rates <- data.frame(arm = rep(c(1, 0), each = 6), count = c(0, 0, 5, 1, 0, 8, 10, 1, 12, 0, 7, 2),
                    pyears = c(1.5, 2, 1, 2, 2, 0.5, 2, 1, 2, 1.5, 2, 1))
write.csv(rates, "data/rates.csv", row.names = FALSE)
# glm's and glm.nb's own criteria (epsilon 1e-8 on the deviance, theta.ml's tol 1.2e-4) are
# tightened: epsilon 1e-12, and theta re-solved by theta.ml with Newton steps to 1e-10 before the final fit.
suppressMessages(library(MASS))
glm_tight <- glm.control(epsilon = 1e-12, maxit = 100)
rate_values <- function(key, formula, data, count) {
  po <- glm(formula, family = poisson, data = data, control = glm_tight)
  print(summary(po))
  ci <- confint.default(po)
  put(paste0(key, ".poisson.rr"), exp(unname(coef(po)["arm"])))
  put(paste0(key, ".poisson.p"), summary(po)$coefficients["arm", 4])
  put(paste0(key, ".poisson.lower"), exp(ci["arm", 1])); put(paste0(key, ".poisson.upper"), exp(ci["arm", 2]))
  nb <- glm.nb(formula, data = data, control = glm_tight)
  th <- theta.ml(data[[count]], fitted(nb), limit = 100, eps = 1e-10)
  nb <- glm.nb(formula, data = data, init.theta = th, control = glm_tight)
  print(summary(nb))
  ci <- confint.default(nb)
  put(paste0(key, ".nb.rr"), exp(unname(coef(nb)["arm"]))); put(paste0(key, ".nb.theta"), nb$theta)
  put(paste0(key, ".nb.p"), summary(nb)$coefficients["arm", 4])
  put(paste0(key, ".nb.lower"), exp(ci["arm", 1])); put(paste0(key, ".nb.upper"), exp(ci["arm", 2]))
}
rate_values("rates", count ~ arm + offset(log(pyears)), rates, "count")
# MASS::quine (days absent, overdispersed) by sex, exposure 1; MASS::Insurance claims of
# drivers under 30 against older, offset log(policy holders).
quine2 <- data.frame(count = quine$Days, arm = as.integer(quine$Sex == "M"), exposure = 1)
write.csv(quine2, "data/quine.csv", row.names = FALSE)
rate_values("quine", count ~ arm, quine2, "count")
ins <- data.frame(count = Insurance$Claims, exposure = Insurance$Holders,
                  arm = as.integer(Insurance$Age %in% c("<25", "25-29")))
write.csv(ins, "data/insurance.csv", row.names = FALSE)
rate_values("insurance", count ~ arm + offset(log(exposure)), ins, "count")

# Adjusted and IPTW effects on MASS::birthwt: smoking in pregnancy as the "arm", age and
# mother's weight (lwt) as covariates. Propensity: logistic glm; stabilised ATE weights.
suppressMessages({library(sandwich); library(quantreg)})
bw <- birthwt[, c("low", "bwt", "smoke", "age", "lwt")]
write.csv(bw, "data/birthwt.csv", row.names = FALSE)
effect_values <- function(key, estimate, se, df = Inf, ratio = FALSE) {
  crit <- if (is.finite(df)) qt(0.975, df) else qnorm(0.975)
  p <- 2 * (if (is.finite(df)) pt(-abs(estimate / se), df) else pnorm(-abs(estimate / se)))
  tr <- if (ratio) exp else identity
  put(paste0(key, ".estimate"), tr(estimate)); put(paste0(key, ".se"), se); put(paste0(key, ".p"), p)
  put(paste0(key, ".lower"), tr(estimate - crit * se)); put(paste0(key, ".upper"), tr(estimate + crit * se))
}
ps <- glm(smoke ~ age + lwt, family = binomial, data = bw, control = glm_tight)
score <- fitted(ps)
bw$w <- ifelse(bw$smoke == 1, mean(bw$smoke) / score, (1 - mean(bw$smoke)) / (1 - score))
for (i in c(1, 2, nrow(bw))) put(paste0("birthwt.iptw.weight.row", i), bw$w[i])
# ANCOVA (lm) and the IPTW difference in means (weighted lm, sandwich HC0).
an <- lm(bwt ~ smoke + age + lwt, data = bw)
print(summary(an))
effect_values("birthwt.ancova", coef(an)["smoke"], sqrt(vcov(an)["smoke", "smoke"]), an$df.residual)
lw <- lm(bwt ~ smoke, data = bw, weights = w)
effect_values("birthwt.iptw_mean", coef(lw)["smoke"], sqrt(vcovHC(lw, type = "HC0")["smoke", "smoke"]))
an2 <- lm(albumin1 ~ trt + albumin0, data = pb)
put("pbc.ancova.effect", unname(coef(an2)["trt"])); put("pbc.ancova.p", summary(an2)$coefficients["trt", 4])
put("pbc.ancova.lower", confint(an2)["trt", 1]); put("pbc.ancova.upper", confint(an2)["trt", 2])
# Modified Poisson risk ratio of low birth weight (Zou 2004): glm poisson, sandwich HC0;
# adjusted, and IPTW (weighted glm; R warns about non-integer weights, expected).
mp <- glm(low ~ smoke + age + lwt, family = poisson, data = bw, control = glm_tight)
effect_values("birthwt.rr_adjusted", coef(mp)["smoke"], sqrt(vcovHC(mp, type = "HC0")["smoke", "smoke"]), ratio = TRUE)
mw <- suppressWarnings(glm(low ~ smoke, family = poisson, data = bw, weights = w, control = glm_tight))
effect_values("birthwt.rr_iptw", coef(mw)["smoke"], sqrt(vcovHC(mw, type = "HC0")["smoke", "smoke"]), ratio = TRUE)
# Median regression: quantreg::rq (its default method "br"), standard errors from
# summary.rq(se = "ker") (Powell kernel sandwich), t interval on n - p df.
for (model in list(list("birthwt.rq_adjusted", bwt ~ smoke + age + lwt, NULL), list("birthwt.rq_iptw", bwt ~ smoke, "w"))) {
  fit <- if (is.null(model[[3]])) rq(model[[2]], tau = 0.5, data = bw) else rq(model[[2]], tau = 0.5, data = bw, weights = w)
  sm <- summary(fit, se = "ker")
  print(sm)
  effect_values(model[[1]], coef(fit)["smoke"], sm$coefficients["smoke", "Std. Error"], nrow(bw) - length(coef(fit)))
}

# Rubin's rules by their formulas (mice is not in Debian): the smoking effect on birth weight
# estimated in the 5 folds of birthwt (row number modulo 5), pooled; Rubin's (1987) df and the
# Barnard-Rubin (1999) df with complete-data df 30.
folds <- lapply(0:4, function(k) lm(bwt ~ smoke, data = bw[seq_len(nrow(bw)) %% 5 == k, ]))
q <- sapply(folds, function(f) unname(coef(f)["smoke"])); u <- sapply(folds, function(f) vcov(f)["smoke", "smoke"])
put("rubin.q", paste(sprintf("%.17g", q), collapse = " ")); put("rubin.u", paste(sprintf("%.17g", u), collapse = " "))
m <- length(q); qbar <- mean(q); ubar <- mean(u); b <- var(q); tt <- ubar + (1 + 1 / m) * b
r <- (1 + 1 / m) * b / ubar; df_rubin <- (m - 1) * (1 + 1 / r)^2
lambda <- (1 + 1 / m) * b / tt; dfc <- 30; df_obs <- (dfc + 1) / (dfc + 3) * dfc * (1 - lambda)
df_br <- 1 / (1 / df_rubin + 1 / df_obs)
put("rubin.estimate", qbar); put("rubin.se", sqrt(tt)); put("rubin.df", df_rubin); put("rubin.df_br30", df_br)
put("rubin.p", 2 * pt(-abs(qbar / sqrt(tt)), df_rubin)); put("rubin.lower", qbar - qt(0.975, df_rubin) * sqrt(tt))
put("rubin.p_br30", 2 * pt(-abs(qbar / sqrt(tt)), df_br)); put("rubin.upper_br30", qbar + qt(0.975, df_br) * sqrt(tt))
# E-values by the formulas of the EValue package (VanderWeele & Ding 2017): RR + sqrt(RR (RR - 1))
# after inverting a protective RR; a hazard ratio of a common outcome first becomes
# (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)). The CI limit nearer 1, or 1 if the CI covers 1.
evalue <- function(rr) { rr <- ifelse(rr < 1, 1 / rr, rr); rr + sqrt(rr * (rr - 1)) }
common_rr <- function(hr) (1 - 0.5^sqrt(hr)) / (1 - 0.5^sqrt(1 / hr))
rr <- exp(coef(mp)["smoke"]); rr_lo <- exp(coef(mp)["smoke"] - qnorm(0.975) * sqrt(vcovHC(mp, type = "HC0")["smoke", "smoke"]))
put("evalue.rr", unname(evalue(rr))); put("evalue.rr_ci", unname(evalue(rr_lo)))
hr <- exp(coef(adj)["female"]); hr_up <- summary(adj)$conf.int["female", "upper .95"]
put("evalue.hr_common", unname(evalue(common_rr(hr)))); put("evalue.hr_common_ci", unname(evalue(common_rr(hr_up))))
put("evalue.hr_rare", unname(evalue(hr))); put("evalue.hr_rare_ci", unname(evalue(hr_up)))
# Fragility index by enumeration with fisher.test: significant tables move non-events to
# events in the arm with the lower risk until p >= 0.05; others (reverse index) add events
# to the arm with the higher risk until p < 0.05.
fragility <- function(a, n1, c, n0) {
  p0 <- fisher.test(matrix(c(a, n1 - a, c, n0 - c), 2, byrow = TRUE))$p.value
  lower_t <- a / n1 <= c / n0
  moves_t <- if (p0 < 0.05) lower_t else !lower_t
  for (k in 1:100) {
    a2 <- a + k * moves_t; c2 <- c + k * !moves_t
    p <- fisher.test(matrix(c(a2, n1 - a2, c2, n0 - c2), 2, byrow = TRUE))$p.value
    if ((p >= 0.05) == (p0 < 0.05)) return(c(k, p))
  }
}
for (tab in list(c(9, 39, 2, 39), c(1, 39, 6, 39), c(2, 40, 12, 41))) {
  f <- fragility(tab[1], tab[2], tab[3], tab[4])
  put(paste0("fragility.", paste(tab, collapse = "_"), ".index"), f[1])
  put(paste0("fragility.", paste(tab, collapse = "_"), ".p_after"), f[2])
}

# JSON by hand (jsonlite is not among Debian's base R packages here).
keys <- sort(names(values))
fmt <- function(v) if (is.character(v)) paste0('"', v, '"') else if (is.na(v)) "null" else sprintf("%.15g", v)
lines <- sprintf('  "%s": %s', keys, vapply(keys, function(k) fmt(values[[k]]), ""))
writeLines(c("{", paste(lines, collapse = ",\n"), "}"), "reference_values.json")
