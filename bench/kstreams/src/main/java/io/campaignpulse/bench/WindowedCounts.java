package io.campaignpulse.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The Kafka Streams peer of {@code make bench}: what a Kafka shop would build instead of the Go
 * aggregator. It reads raw_events, extracts the window dimensions and the event time in one
 * streaming JSON pass (Jackson's parser, no tree), re-keys by the dimensions (one repartition topic),
 * and keeps hourly and daily windowed counts in RocksDB (defaults) with a grace period equal to the
 * aggregator's allowed lateness. Every count change goes to aggregated_metrics in the aggregator's
 * JSON shape (partition -1).
 *
 * <p>Arguments: bootstrap application.id state.dir threads guarantee(at_least_once|exactly_once_v2)
 * commit.interval.ms grace.minutes [raw topic] [output topic]. Prints "kstreams: running &lt;unix
 * ms&gt;" when the instance reaches RUNNING.
 */
public final class WindowedCounts {
  private static final JsonFactory JSON = new JsonFactory();
  private static final DateTimeFormatter EVENT_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss[.SSS]");

  private WindowedCounts() {}

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String appId = args[1];
    String stateDir = args[2];
    int threads = Integer.parseInt(args[3]);
    String guarantee = args[4];
    long commitMs = Long.parseLong(args[5]);
    long graceMin = Long.parseLong(args[6]);
    String rawTopic = args.length > 7 ? args[7] : "raw_events";
    String outTopic = args.length > 8 ? args[8] : "aggregated_metrics";

    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitMs);
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");

    StreamsBuilder b = new StreamsBuilder();
    KStream<String, Long> byDims =
        b.stream(rawTopic, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
            .process(Extract::new)
            .repartition(Repartitioned.with(Serdes.String(), Serdes.Long()).withName("dims"));
    Duration grace = Duration.ofMinutes(graceMin);
    count(byDims, "hour", TimeWindows.ofSizeAndGrace(Duration.ofHours(1), grace), outTopic);
    count(byDims, "day", TimeWindows.ofSizeAndGrace(Duration.ofDays(1), grace), outTopic);

    KafkaStreams streams = new KafkaStreams(b.build(), p);
    CountDownLatch stopped = new CountDownLatch(1);
    streams.setStateListener(
        (now, before) -> {
          if (now == KafkaStreams.State.RUNNING && before == KafkaStreams.State.REBALANCING) {
            System.out.println("kstreams: running " + System.currentTimeMillis());
          }
          if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
            stopped.countDown();
          }
        });
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  streams.close(Duration.ofSeconds(30));
                  stopped.countDown();
                }));
    streams.start();
    stopped.await();
  }

  private static void count(KStream<String, Long> s, String gran, TimeWindows w, String outTopic) {
    s.groupByKey(Grouped.with(Serdes.String(), Serdes.Long()))
        .windowedBy(w)
        .count()
        .toStream()
        .map((Windowed<String> k, Long n) -> KeyValue.pair(gran + "|" + k.window().start() + "|" + k.key(), update(gran, k, n)))
        .to(outTopic, Produced.with(Serdes.String(), Serdes.String()));
  }

  /** update renders a window total as the aggregator's metricdoc.Update JSON. */
  private static String update(String gran, Windowed<String> k, Long n) {
    String[] d = k.key().split("\u0001", -1);
    StringBuilder sb = new StringBuilder(256);
    sb.append("{\"granularity\":\"").append(gran)
        .append("\",\"window_start\":\"").append(Instant.ofEpochMilli(k.window().start()))
        .append("\",\"window_end\":\"").append(Instant.ofEpochMilli(k.window().end()))
        .append("\",\"meta\":{\"app_id\":").append(quote(d[0]))
        .append(",\"media_source\":").append(quote(d[1]))
        .append(",\"campaign\":").append(quote(d[2]))
        .append(",\"platform\":").append(quote(d[3]))
        .append(",\"event_name\":").append(quote(d[4]))
        .append(",\"currency\":").append(quote(d[5]))
        .append("},\"partition\":-1,\"events\":").append(n).append('}');
    return sb.toString();
  }

  private static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.append('"').toString();
  }

  /**
   * Extract parses one raw event and forwards (dimensions, revenue-or-0) with the event time as the
   * record timestamp; invalid events are dropped (the aggregator dead-letters them).
   */
  static final class Extract implements Processor<byte[], byte[], String, Long> {
    private static final Map<String, String> PLATFORMS =
        Map.of("ios", "ios", "iOS", "ios", "android", "android", "Android", "android",
            "windowsphone", "windowsphone");
    private ProcessorContext<String, Long> ctx;

    @Override
    public void init(ProcessorContext<String, Long> context) {
      ctx = context;
    }

    @Override
    public void process(Record<byte[], byte[]> r) {
      if (r.value() == null) {
        return;
      }
      String app = null, afid = null, name = null, time = null, media = null, campaign = "",
          platform = null, revenue = null, currency = "";
      try (JsonParser jp = JSON.createParser(r.value())) {
        if (jp.nextToken() != JsonToken.START_OBJECT) {
          return;
        }
        while (jp.nextToken() == JsonToken.FIELD_NAME) {
          String f = jp.currentName();
          JsonToken t = jp.nextToken();
          if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
            jp.skipChildren();
            continue;
          }
          switch (f) {
            case "app_id" -> app = jp.getValueAsString();
            case "appsflyer_id" -> afid = jp.getValueAsString();
            case "event_name" -> name = jp.getValueAsString();
            case "event_time" -> time = jp.getValueAsString();
            case "media_source" -> media = jp.getValueAsString();
            case "campaign" -> campaign = jp.getValueAsString("");
            case "platform" -> platform = PLATFORMS.get(jp.getValueAsString(""));
            case "event_revenue" -> revenue = jp.getValueAsString();
            case "event_revenue_currency" -> currency = jp.getValueAsString("");
            default -> {}
          }
        }
      } catch (Exception e) {
        return;
      }
      if (app == null || afid == null || name == null || time == null || platform == null) {
        return;
      }
      long ts;
      try {
        ts = LocalDateTime.parse(time, EVENT_TIME).toInstant(ZoneOffset.UTC).toEpochMilli();
      } catch (Exception e) {
        return;
      }
      if (media == null || media.isEmpty()) {
        media = "organic";
      }
      if (revenue == null || revenue.isEmpty()) {
        currency = "";
      }
      String dims = app + '\u0001' + media + '\u0001' + campaign + '\u0001' + platform + '\u0001' + name
          + '\u0001' + currency;
      ctx.forward(new Record<>(dims, 0L, ts));
    }
  }
}
