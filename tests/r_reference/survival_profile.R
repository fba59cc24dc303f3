# Profile-likelihood interval and likelihood-ratio test of a Cox hazard ratio (one binary
# covariate, Efron ties), and the difference of restricted mean survival times with its CI,
# on the data sets reference.R wrote to data/. Output: survival_profile_values.json.
#   Rscript survival_profile.R > survival_profile_output.txt
suppressPackageStartupMessages(library(survival))
options(digits = 15)
values <- list()
put <- function(key, value) values[[key]] <<- unname(value)

# 2 (loglik at the maximum - loglik at b): coxph with init = b and no iteration gives loglik(b).
profile_limits <- function(formula, data, level = 0.95) {
  fit <- coxph(formula, data, ties = "efron", control = coxph.control(eps = 1e-12, toler.chol = 1e-14, iter.max = 100))
  b <- unname(coef(fit)); se <- sqrt(fit$var[1, 1])
  deviance <- function(beta) {
    at <- coxph(formula, data, ties = "efron", init = beta, control = coxph.control(iter.max = 0))
    2 * (fit$loglik[2] - at$loglik[2]) - qchisq(level, 1)
  }
  lower <- uniroot(deviance, c(b - 10 * se, b), tol = 1e-13)$root
  upper <- uniroot(deviance, c(b, b + 10 * se), tol = 1e-13)$root
  lr <- 2 * diff(fit$loglik)
  list(coef = b, lower = exp(lower), upper = exp(upper), lr_chi2 = lr, lr_p = pchisq(lr, 1, lower.tail = FALSE),
       wald_p = summary(fit)$coefficients[1, "Pr(>|z|)"])
}

lung <- read.csv("data/lung.csv")
veteran <- read.csv("data/veteran.csv")
aml <- read.csv("data/aml.csv")
lung$female <- as.integer(lung$sex == 2)
veteran$test <- as.integer(veteran$trt == 2)
aml$maintained <- as.integer(aml$x == "Maintained")
cases <- list(lung = list(data = lung, formula = Surv(time, status) ~ female),
              veteran = list(data = veteran, formula = Surv(time, status) ~ test),
              aml = list(data = aml, formula = Surv(time, status) ~ maintained))
for (name in names(cases)) {
  case <- cases[[name]]
  for (level in c(0.95, 0.9)) {
    limits <- profile_limits(case$formula, case$data, level)
    for (key in names(limits)) put(sprintf("%s.profile%s.%s", name, level * 100, key), limits[[key]])
  }
  print(name); print(unlist(values[grepl(paste0("^", name, "\\."), names(values))]))
}

# RMST difference (group 1 minus group 0) to tau, SE from print.survfit's se(rmean) of each group.
rmst_difference <- function(formula, data, tau, name, level = 0.95) {
  table <- summary(survfit(formula, data), rmean = tau)$table
  diff <- table[2, "rmean"] - table[1, "rmean"]
  se <- sqrt(table[1, "se(rmean)"]^2 + table[2, "se(rmean)"]^2)
  z <- qnorm(1 - (1 - level) / 2)
  put(sprintf("%s.rmst%d.difference", name, tau), diff)
  put(sprintf("%s.rmst%d.se", name, tau), se)
  put(sprintf("%s.rmst%d.lower", name, tau), diff - z * se)
  put(sprintf("%s.rmst%d.upper", name, tau), diff + z * se)
  put(sprintf("%s.rmst%d.p", name, tau), 2 * pnorm(-abs(diff / se)))
  print(table)
}
rmst_difference(Surv(time, status) ~ female, lung, 730, "lung")
rmst_difference(Surv(time, status) ~ test, veteran, 365, "veteran")
rmst_difference(Surv(time, status) ~ maintained, aml, 40, "aml")

writeLines(paste0("{\n", paste(sprintf('  "%s": %s', names(values),
  sapply(values, function(v) format(v, digits = 17))), collapse = ",\n"), "\n}"), "survival_profile_values.json")
