# Risk ratio treatment / control with Katz's log interval, the measure the report gives every
# binary endpoint beside the risk difference: exp(log(RR) +- z sqrt(1/a - 1/n1 + 1/c - 1/n0)).
# Base R has no function for it; this is the formula (Katz et al., Biometrics 1978;34:469), on
# MASS::birthwt (low birth weight by smoking, data/birthwt.csv) and the 2x2 tables of the tests.
#   Rscript risk_ratio.R > risk_ratio_output.txt   (writes risk_ratio_values.json)
options(digits = 15)
values <- list()
put <- function(key, value) values[[key]] <<- unname(value)
katz <- function(key, a, n1, c, n0) {
  rr <- (a / n1) / (c / n0)
  se <- sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
  z <- qnorm(0.975)
  print(c(key = key, rr = rr, lower = exp(log(rr) - z * se), upper = exp(log(rr) + z * se)))
  put(paste0(key, ".rr"), rr)
  put(paste0(key, ".lower"), exp(log(rr) - z * se))
  put(paste0(key, ".upper"), exp(log(rr) + z * se))
}
b <- read.csv("data/birthwt.csv")
katz("birthwt", sum(b$low[b$smoke == 1]), sum(b$smoke == 1), sum(b$low[b$smoke == 0]), sum(b$smoke == 0))
katz("t9_39_2_39", 9, 39, 2, 39)
katz("t1_39_6_39", 1, 39, 6, 39)
writeLines(paste0("{\n", paste(sprintf('  "%s": %s', names(values), sapply(values, function(v) format(v, digits = 17))),
                               collapse = ",\n"), "\n}"), "risk_ratio_values.json")
