# Skewed lab values compared on the log scale: ratio of geometric means (Student and Welch t on
# log values, back-transformed) and the ANCOVA of log(value) on arm and log(baseline), on
# data/pbcseq_albumin.csv (albumin at the first visit from day 300 by trt, baseline at day 0).
#   Rscript log_scale.R > log_scale_output.txt   (writes log_scale_values.json)
options(digits = 15)
d <- read.csv("data/pbcseq_albumin.csv")
d$treated <- as.integer(d$trt == 1)
values <- list()
put <- function(key, value) values[[key]] <<- unname(value)
for (equal in c(TRUE, FALSE)) {
  name <- if (equal) "student" else "welch"
  t <- t.test(log(d$albumin1[d$treated == 1]), log(d$albumin1[d$treated == 0]), var.equal = equal)
  print(t)
  put(paste0(name, ".ratio"), exp(t$estimate[1] - t$estimate[2]))
  put(paste0(name, ".lower"), exp(t$conf.int[1]))
  put(paste0(name, ".upper"), exp(t$conf.int[2]))
  put(paste0(name, ".p"), t$p.value)
}
fit <- lm(log(albumin1) ~ treated + log(albumin0), data = d)
print(summary(fit))
ci <- confint(fit)["treated", ]
put("ancova.ratio", exp(coef(fit)["treated"]))
put("ancova.lower", exp(ci[1]))
put("ancova.upper", exp(ci[2]))
put("ancova.p", summary(fit)$coefficients["treated", "Pr(>|t|)"])
writeLines(paste0("{\n", paste(sprintf('  "%s": %s', names(values), sapply(values, function(v) format(v, digits = 17))),
                               collapse = ",\n"), "\n}"), "log_scale_values.json")
