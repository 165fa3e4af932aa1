"""The Spark Structured Streaming peer of `make bench`.

What the job campaignpulse replaces did: read raw_events, parse the fields the
windows need with an explicit schema (from_json), watermark on event time,
hourly and daily window counts per (app, media source, campaign, platform,
event name, currency), written in update mode to aggregated_metrics as the
same JSON shape the Go aggregator writes (metricdoc.Update, partition -1).

Settings follow Spark's own tuning advice (see bench/README.md): local[N]
master, spark.sql.shuffle.partitions equal to the topic's partitions, default
trigger (the next micro-batch starts when the previous one ends),
maxOffsetsPerTrigger unset. Two queries (hour and day): Spark rejects two
streaming aggregations in one query.

Usage: windowed_counts.py --brokers H:P --jars a.jar,b.jar --checkpoint DIR
       [--partitions 6] [--lateness-minutes 120] [--master local[2]]
Prints "spark: started <unix ms>" once both queries run and "spark: warm <unix
ms>" once both finished a micro-batch.
"""

import argparse
import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

FIELDS = [
    "app_id", "appsflyer_id", "event_name", "event_time", "media_source",
    "campaign", "platform", "event_revenue", "event_revenue_currency",
]
PLATFORMS = {"ios": "ios", "iOS": "ios", "android": "android", "Android": "android",
             "windowsphone": "windowsphone"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--jars", required=True)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--lateness-minutes", type=int, default=120)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--driver-memory", default="2g")
    ap.add_argument("--raw-topic", default="raw_events")
    ap.add_argument("--out-topic", default="aggregated_metrics")
    a = ap.parse_args()

    spark = (
        SparkSession.builder.master(a.master)
        .appName("campaignpulse-bench-spark")
        .config("spark.jars", a.jars)
        .config("spark.driver.memory", a.driver_memory)
        .config("spark.sql.shuffle.partitions", str(a.partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")

    schema = StructType([StructField(f, StringType()) for f in FIELDS])
    raw = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", a.brokers)
        .option("subscribe", a.raw_topic)
        .option("startingOffsets", "earliest")
        .load()
    )
    plat = F.coalesce(*[F.when(F.col("e.platform") == k, F.lit(v)) for k, v in PLATFORMS.items()])
    events = (
        raw.select(F.from_json(F.col("value").cast("string"), schema).alias("e"))
        .select(
            F.col("e.app_id").alias("app_id"),
            F.coalesce(F.nullif(F.col("e.media_source"), F.lit("")), F.lit("organic")).alias("media_source"),
            F.coalesce(F.col("e.campaign"), F.lit("")).alias("campaign"),
            plat.alias("platform"),
            F.col("e.event_name").alias("event_name"),
            F.when(F.col("e.event_revenue").isNotNull() & (F.col("e.event_revenue") != ""),
                   F.coalesce(F.col("e.event_revenue_currency"), F.lit(""))).otherwise(F.lit("")).alias("currency"),
            F.to_timestamp(F.col("e.event_time"), "yyyy-MM-dd HH:mm:ss.SSS").alias("ts"),
        )
        .where(F.col("app_id").isNotNull() & F.col("event_name").isNotNull()
               & F.col("platform").isNotNull() & F.col("ts").isNotNull())
        .withWatermark("ts", f"{a.lateness_minutes} minutes")
    )

    queries = []
    for gran, size in (("hour", "1 hour"), ("day", "1 day")):
        counts = events.groupBy(
            F.window("ts", size), "app_id", "media_source", "campaign", "platform", "event_name", "currency"
        ).count()
        meta = F.struct("app_id", "media_source", "campaign", "platform", "event_name", "currency")
        out = counts.select(
            F.concat_ws("|", F.lit(gran), F.col("window.start").cast("long").cast("string"),
                        "app_id", "media_source", "campaign", "platform", "event_name", "currency").alias("key"),
            F.to_json(F.struct(
                F.lit(gran).alias("granularity"),
                F.col("window.start").alias("window_start"),
                F.col("window.end").alias("window_end"),
                meta.alias("meta"),
                F.lit(-1).alias("partition"),
                F.col("count").alias("events"),
            ), {"timestampFormat": "yyyy-MM-dd'T'HH:mm:ss'Z'"}).alias("value"),
        )
        q = (
            out.writeStream.format("kafka")
            .queryName(f"counts_{gran}")
            .option("kafka.bootstrap.servers", a.brokers)
            .option("topic", a.out_topic)
            .option("checkpointLocation", f"{a.checkpoint}/{gran}")
            .outputMode("update")
            .start()
        )
        queries.append(q)

    print(f"spark: started {int(time.time() * 1000)}", flush=True)
    # One line per finished micro-batch (rows, duration): where the time goes.
    # "spark: warm" once both queries finished a batch (the freshness runs
    # start their load then).
    seen, warm = {}, False
    try:
        while not spark.streams.awaitAnyTermination(1):
            if not warm and all(q.recentProgress for q in queries):
                warm = True
                print(f"spark: warm {int(time.time() * 1000)}", flush=True)
            for q in queries:
                for p in q.recentProgress:
                    if seen.get(q.name, -1) < p["batchId"]:
                        seen[q.name] = p["batchId"]
                        print(f"spark: {q.name} batch {p['batchId']} rows={p['numInputRows']} "
                              f"durations_ms={p['durationMs']}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        for q in queries:
            q.stop()
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
