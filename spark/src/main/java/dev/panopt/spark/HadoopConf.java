package dev.panopt.spark;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import org.apache.hadoop.conf.Configuration;

/**
 * The driver's Hadoop configuration (with the application's {@code spark.hadoop.*} settings and
 * whatever was set on {@code sparkContext().hadoopConfiguration()}, e.g. S3 credentials), carried
 * to the executors that copy model files. Hadoop's {@link Configuration} is Writable, not Serializable.
 */
final class HadoopConf implements Serializable {
    private static final long serialVersionUID = 1L;

    private final byte[] bytes;
    private transient Configuration conf;

    private HadoopConf(byte[] bytes) {
        this.bytes = bytes;
    }

    static HadoopConf of(Configuration conf) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(b)) {
            conf.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialize the Hadoop configuration", e);
        }
        return new HadoopConf(b.toByteArray());
    }

    synchronized Configuration get() {
        if (conf == null) {
            Configuration c = new Configuration(false);
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
                c.readFields(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the Hadoop configuration sent by the driver", e);
            }
            conf = c;
        }
        return conf;
    }
}
